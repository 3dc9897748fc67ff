// Without better-sqlite3 and pg: the runtime works on the in-memory store, and creating a SQLite store
// fails with a typed error that names the package to install.
import assert from 'node:assert/strict';
import { MissingPeerDependencyError } from 'jd-dispute-statecharts';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
} from 'jd-dispute-statecharts/runtime';

const HOUR = 3_600_000;
let now = 0;
const payments = createSandboxPayments();
const runtime = createWorkflowRuntime({ store: createMemoryStore(), clock: { now: () => now }, payments, logistics: createSandboxLogistics() });
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
now = 48 * HOUR; // P3a: the window ends, a merchant-delivered order is refunded
await runtime.tick();
assert.equal(payments.executionCount(), 1, 'one refund after the 48H window');
await runtime.close();
console.log('ok   runtime on the in-memory store: 48H window fired, one refund');

assert.throws(
  () => createSqliteStore({ filename: ':memory:' }),
  (error: unknown) =>
    error instanceof MissingPeerDependencyError &&
    error.name === 'MissingPeerDependencyError' &&
    error.code === 'MISSING_PEER_DEPENDENCY' &&
    error.packageName === 'better-sqlite3' &&
    error.message.includes('npm install better-sqlite3'),
);
console.log('ok   createSqliteStore without better-sqlite3 throws MissingPeerDependencyError naming it');
