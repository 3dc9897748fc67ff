// With better-sqlite3 installed: a SQLite store keeps workflows and deadlines across a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandboxLogistics, createSandboxPayments, createSqliteStore, createWorkflowRuntime } from 'jd-dispute-statecharts/runtime';

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'consumer-sqlite-'));
const filename = join(dir, 'workflows.db');
let now = 0;
const payments = createSandboxPayments();
const open = async () => {
  const store = createSqliteStore({ filename });
  await store.migrate();
  return createWorkflowRuntime({ store, clock: { now: () => now }, payments, logistics: createSandboxLogistics() });
};

let runtime = await open();
await runtime.openOrder({ input: { orderId: 'o-1', merchantId: 'm-1', customerId: 'c-1', deliveredBy: 'MERCHANT' } });
await runtime.dispatch({
  workflowId: 'o-1',
  commandId: 'cmd-1',
  event: { type: 'dispute.opened', by: { role: 'customer', id: 'c-1' }, disputeId: 'd-1' },
});
await runtime.dispatch({
  workflowId: 'o-1',
  commandId: 'cmd-2',
  event: { type: 'merchant.planSubmitted', by: { role: 'merchant', id: 'm-1' }, plan: 'WAIT_48H_INTERCEPT' },
});
const platform = { role: 'platform', id: 'cs-1' } as const;
const before = await runtime.getWorkflow(platform, 'o-1');
await runtime.close();

now = 48 * HOUR; // restarted after the window ended: the stored deadline fires
runtime = await open();
// The view counts due deadlines as fired; the stored version shows that nothing ran while it was down.
assert.equal((await runtime.getWorkflow(platform, 'o-1')).version, before.version, 'the stored workflow as before the restart');
await runtime.tick();
assert.equal(payments.executionCount(), 1, 'one refund after the restart');
await runtime.close();
rmSync(dir, { recursive: true, force: true });
console.log('ok   runtime on a SQLite file: the 48H deadline survived a restart, one refund');
