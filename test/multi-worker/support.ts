/**
 * The runtime tests' `Host` (test/runtime/helpers.ts) on PostgreSQL: a runtime on sandbox adapters and a
 * manual clock, whose store is a PostgreSQL schema. A restart closes the runtime and its pool and opens a
 * new one on the same schema (a new process would do no more); the sandboxes outlive restarts.
 */
import pg from 'pg';
import {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowRuntimeOptions,
} from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { ManualClock, type Host } from '../runtime/helpers.js';
import { pgUrl } from '../support/postgres.js';

type Extra = Partial<Omit<WorkflowRuntimeOptions, 'store' | 'clock' | 'payments' | 'logistics' | 'notifications'>>;

export async function pgHost(options: { schema: string; clock?: ManualClock } & Extra): Promise<Host> {
  const { schema, clock = new ManualClock(), ...extra } = options;
  const payments = createSandboxPayments();
  const logistics = createSandboxLogistics();
  const notifications = createSandboxNotifications();
  const make = async () => {
    const store = createPostgresStore({ connectionString: pgUrl, schema });
    await store.migrate();
    const runtime = createWorkflowRuntime({
      store,
      clock,
      payments,
      logistics,
      notifications,
      workerId: 'test-worker',
      onError: () => {},
      ...extra,
    });
    return { store, runtime };
  };
  const h = { clock, payments, logistics, notifications, ...(await make()) } as unknown as Host;
  h.restart = async () => {
    await h.runtime.close();
    Object.assign(h, await make());
  };
  h.close = () => h.runtime.close();
  return h;
}

/** Empties the runtime's tables of a schema (faster than a new schema per run); CASCADE takes every table that refers to a workflow. */
export async function truncate(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const s = `"${schema}"`;
    await client.query(`TRUNCATE ${s}.deadlines, ${s}.outbox, ${s}.audit, ${s}.cancel_orders, ${s}.commands, ${s}.workflows CASCADE`);
  } finally {
    await client.end();
  }
}
