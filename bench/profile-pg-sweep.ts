/**
 * The PostgreSQL overdue sweep alone, for a CPU profile: one runtime fires `count` overdue D7 windows
 * (opened 50 h before the sweep's clock) and delivers their notifications by `tick()`, on a fresh schema.
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-pg-sweep.ts [count]
 *
 * Prints the rate and the worker's CPU time per fired deadline. Needs PostgreSQL on 127.0.0.1:5432.
 */
import pg from 'pg';
import { createPostgresStore } from '../src/runtime/postgres.js';
import { createSandboxLogistics, createSandboxPayments, createWorkflowRuntime } from '../src/runtime/index.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const count = Number(process.argv[2] ?? 2_000);
const schema = `bench_pg_sweep_${process.pid}`;
const customer = { role: 'customer', id: 'c' } as const;
const runtimeAt = (now: number, workerId: string) =>
  createWorkflowRuntime({
    store: createPostgresStore({ connectionString: URL, schema }),
    clock: { now: () => now },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: { notify: async () => {} },
    workerId,
    onError: (error, context) => console.error(context, error),
  });

const migrator = createPostgresStore({ connectionString: URL, schema });
await migrator.migrate();
await migrator.close();
const seeder = runtimeAt(T0, 'seed');
await Promise.all(
  Array.from({ length: 8 }, async (_, lane) => {
    for (let i = lane; i < count; i += 8) {
      const workflowId = `w${i}`;
      await seeder.openOrder({ workflowId, input: { orderId: workflowId, merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT', at: T0 } });
      await seeder.dispatch({ workflowId, commandId: 'd', event: { type: 'dispute.opened', at: T0, by: customer, disputeId: 'd' } });
    }
  }),
);
await seeder.close();

const sweeper = runtimeAt(T0 + 50 * 3_600_000, 'sweeper');
const cpu = process.cpuUsage();
const started = performance.now();
let fired = 0;
let delivered = 0;
for (;;) {
  const tick = await sweeper.tick();
  fired += tick.deadlinesFired;
  delivered += tick.effectsDelivered;
  if (tick.deadlinesFired + tick.effectsDelivered === 0) break;
}
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    fired,
    delivered,
    deadlinesPerSecond: Math.round(fired / seconds),
    cpuMsPerDeadline: Number(((used.user + used.system) / 1000 / fired).toFixed(3)),
  }),
);
await sweeper.close();
const admin = new pg.Client({ connectionString: URL });
await admin.connect();
await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
