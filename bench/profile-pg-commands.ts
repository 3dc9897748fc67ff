/**
 * The durable workload of `durable.postgres1VsRawUpsert` in one process, for a CPU profile: one runtime
 * runs `orders` orders (open, dispute, 48H plan, forced refund), `inFlight` at once, on a fresh schema.
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-pg-commands.ts [orders] [inFlight]
 *
 * Prints the rate, the process's CPU time per command and the runtime's live-cache statistics. Needs
 * PostgreSQL on 127.0.0.1:5432.
 */
import pg from 'pg';
import { createPostgresStore } from '../src/runtime/postgres.js';
import { createSandboxLogistics, createSandboxPayments, createWorkflowRuntime } from '../src/runtime/index.js';
import { concurrently } from './metrics/durable.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const orders = Number(process.argv[2] ?? 2_000);
const inFlight = Number(process.argv[3] ?? 64);
const schema = `bench_pg_commands_${process.pid}`;
const merchant = { role: 'merchant', id: 'merchant-1' } as const;
const customer = { role: 'customer', id: 'customer-1' } as const;

const pool = new pg.Pool({ connectionString: URL, max: 4 });
const store = createPostgresStore({ pool, schema });
await store.migrate();
const runtime = createWorkflowRuntime({
  store,
  clock: { now: () => Date.now() },
  payments: createSandboxPayments(),
  logistics: createSandboxLogistics(),
  workerId: 'profile',
});

async function runOrder(workflowId: string): Promise<void> {
  await runtime.openOrder({
    workflowId,
    input: { orderId: workflowId, merchantId: merchant.id, customerId: customer.id, deliveredBy: 'MERCHANT' },
  });
  const events = [
    { type: 'dispute.opened', by: customer, disputeId: 'd' },
    { type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H_INTERCEPT' },
    { type: 'merchant.refundForced', by: merchant, cancellationId: 'd:intercept-48h' },
  ] as const;
  for (const [step, event] of events.entries()) await runtime.dispatch({ workflowId, commandId: `${workflowId}:${step}`, event });
}

try {
  let next = 0;
  await concurrently(100, inFlight, () => runOrder(`warm${next++}`));
  const cpu = process.cpuUsage();
  const started = performance.now();
  await concurrently(orders, inFlight, () => runOrder(`o${next++}`));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const commands = orders * 4;
  const stats = (runtime as unknown as { liveCacheStats(): Record<string, number> }).liveCacheStats();
  console.log(
    JSON.stringify({
      commandsPerSecond: Math.round(commands / seconds),
      cpuMsPerCommand: Math.round(((used.user + used.system) / 1000 / commands) * 1000) / 1000,
      ...stats,
    }),
  );
} finally {
  await runtime.close();
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}
