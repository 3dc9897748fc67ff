import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore, postgresProjectionBackfill } from '../../src/runtime/postgres-store.js';
import { createSandboxLogistics, createSandboxPayments, createWorkflowRuntime } from '../../src/runtime/index.js';
import { createSqliteStore, SQLITE_PROJECTION_BACKFILL } from '../../src/runtime/sqlite-store.js';
import type { WorkflowStore } from '../../src/runtime/store.js';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

/**
 * Migration 7 fills the dispute projection and the cancel orders' new columns from the stored workflows.
 * Here workflows in every dispute status are written through the runtime (which writes the projection
 * in each commit), the projection is wiped, and the backfill must rebuild the very same rows.
 */

const MERCHANT = { role: 'merchant', id: 'm-1' } as const;
const CUSTOMER = { role: 'customer', id: 'c-1' } as const;
const PLATFORM = { role: 'platform', id: 'cs-1' } as const;
const EVIDENCE = {
  reason: 'GOODS_ALREADY_SHIPPED',
  proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'file-1', sizeBytes: 1000 }],
  explanation: 'shipped before the customer asked to cancel',
} as const;

async function writeWorkflows(store: WorkflowStore): Promise<void> {
  let now = 1_000;
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => now },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    onError: () => {},
  });
  let n = 0;
  const play = async (orderId: string, events: OrderEventInput[]) => {
    await runtime.openOrder({ input: { orderId, merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT' } });
    for (const event of events) {
      now += 1_000;
      await runtime.dispatch({ workflowId: orderId, commandId: `k${(n += 1)}`, event });
    }
  };
  const opened = (disputeId = 'd-1') => ({ type: 'dispute.opened', by: CUSTOMER, disputeId }) satisfies OrderEventInput;
  await play('o-merchant', [opened()]);
  await play('o-customer', [opened(), { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' }]);
  await play('o-ruling', [
    { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' },
    opened(),
    { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' },
    { type: 'customer.settlementObjected', by: CUSTOMER },
    { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' },
  ]);
  await play('o-two', [
    opened('d-1'),
    { type: 'customer.disputeWithdrawn', by: CUSTOMER },
    opened('d-2'),
    { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: EVIDENCE },
  ]);
  await play('o-refunded', [opened(), { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' }]);
  await runtime.tick();
  await runtime.stop();
}

async function projection(store: WorkflowStore) {
  const withoutTime = <T extends { updatedAt: number }>({ updatedAt: _updatedAt, ...row }: T) => row;
  return {
    disputes: (await store.queryDisputes({ limit: 500 })).items.map(withoutTime),
    cancelOrders: (await store.queryCancelOrders({ limit: 500 })).items.map(withoutTime),
  };
}

describe('migration 7 backfill of the work-queue projections', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("SQLite: rebuilds every dispute row and the cancel orders' customer and refund reason as the commits wrote them (D6/X2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jd-backfill-'));
    dirs.push(dir);
    const filename = join(dir, 'store.db');
    const store = createSqliteStore({ filename });
    await store.migrate();
    await writeWorkflows(store);
    const written = await projection(store);

    const db = new Database(filename);
    db.exec(`DELETE FROM disputes; UPDATE cancel_orders SET customer_id = 'wiped', refund_reason = 'wiped';`);
    expect((await projection(store)).disputes).toEqual([]);
    db.exec(SQLITE_PROJECTION_BACKFILL);
    db.close();

    expect(written.disputes.map((row) => [row.workflowId, row.disputeId, row.status, row.waitingOn, row.nextTimer])).toEqual([
      ['o-merchant', 'd-1', 'awaitingMerchantChoice', 'merchant', 'merchantResponseWindow'],
      ['o-customer', 'd-1', 'awaitingCustomerConfirmation', 'customer', 'customerConfirmationWindow'],
      ['o-refunded', 'd-1', 'awaitingCustomerConfirmation', 'customer', 'customerConfirmationWindow'],
      ['o-ruling', 'd-1', 'resolved', null, null],
      ['o-two', 'd-1', 'withdrawn', null, null],
      ['o-two', 'd-2', 'awaitingPlatformRuling', 'platform', null],
    ]);
    expect(written.cancelOrders.find((row) => row.workflowId === 'o-ruling')).toMatchObject({
      reason: 'CUSTOMER_REQUEST',
      refundReason: 'PLATFORM_RULING_REFUND',
      customerId: 'c-1',
    });
    expect(await projection(store)).toEqual(written);
    await store.close();
  });

  it.runIf(pgUrl || requirePg)(
    "PostgreSQL: rebuilds every dispute row and the cancel orders' customer and refund reason as the commits wrote them (D6/X2)",
    async () => {
      const { schema, drop } = await freshSchema();
      const store = createPostgresStore({ connectionString: pgUrl, schema });
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await store.migrate();
        await writeWorkflows(store);
        const written = await projection(store);
        expect(written.disputes).toHaveLength(6);

        const s = `"${schema}"`;
        await client.query(`DELETE FROM ${s}.disputes; UPDATE ${s}.cancel_orders SET customer_id = 'wiped', refund_reason = 'wiped';`);
        await client.query(postgresProjectionBackfill(s));

        expect(await projection(store)).toEqual(written);
      } finally {
        await client.end();
        await store.close();
        await drop();
      }
    },
  );
});
