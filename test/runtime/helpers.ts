import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type SandboxLogistics,
  type SandboxNotifications,
  type SandboxPayments,
  type WorkflowRuntime,
  type WorkflowRuntimeOptions,
  type WorkflowStore,
} from '../../src/runtime/index.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** Monday 2026-01-05 09:00 UTC: every runtime test starts here. */
export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

export const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
export const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;
export const PLATFORM = { role: 'platform', id: 'cs-1' } as const;
export const LOGISTICS = { role: 'system', id: 'jd-logistics' } as const;

export const VALID_EVIDENCE = {
  reason: 'GOODS_ALREADY_SHIPPED',
  proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'receipt-1.jpg', sizeBytes: 120_000 }],
  explanation: 'The parcel left our warehouse before the cancellation request.',
} as const;

export class ManualClock {
  constructor(public time = T0) {}
  now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export function orderInput(orderId: string, extra: Record<string, unknown> = {}) {
  return {
    orderId,
    merchantId: MERCHANT.id,
    customerId: CUSTOMER.id,
    deliveredBy: 'MERCHANT' as const,
    ...extra,
  };
}

/** A temporary directory, removed by `cleanup`. */
export function tempDir(prefix = 'runtime-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Host {
  runtime: WorkflowRuntime;
  store: WorkflowStore;
  clock: ManualClock;
  payments: SandboxPayments;
  logistics: SandboxLogistics;
  notifications: SandboxNotifications;
  /** Drops the runtime (and, for SQLite, its connection) and starts a new one on the same data. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

type Extra = Partial<Omit<WorkflowRuntimeOptions, 'store' | 'clock' | 'payments' | 'logistics' | 'notifications'>>;

/**
 * A runtime on sandbox adapters and a manual clock. With `filename` the store is SQLite and a restart
 * reopens the file (a new process would do no more); without, the memory store (or the `store` given,
 * migrated by the caller) survives the restart.
 * The sandboxes are the outside world: they outlive restarts.
 */
export async function host(options: { filename?: string; store?: WorkflowStore; clock?: ManualClock } & Extra = {}): Promise<Host> {
  const { filename, store: given, clock = new ManualClock(), ...extra } = options;
  const payments = createSandboxPayments();
  const logistics = createSandboxLogistics();
  const notifications = createSandboxNotifications();
  const openStore = async () => {
    const store = filename ? createSqliteStore({ filename }) : createMemoryStore();
    await store.migrate();
    return store;
  };
  const memory = filename ? undefined : (given ?? (await openStore()));
  const make = async () => {
    const store = memory ?? (await openStore());
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
  const h: Host = {
    clock,
    payments,
    logistics,
    notifications,
    ...(await make()),
    restart: async () => {
      if (filename) await h.runtime.close();
      else await h.runtime.stop();
      Object.assign(h, await make());
    },
    close: async () => {
      await h.runtime.close();
    },
  };
  return h;
}

/** Everything a store holds about one workflow, for before/after and run-vs-run comparisons. */
export async function dumpWorkflow(store: WorkflowStore, workflowId: string) {
  const record = await store.load(workflowId);
  return {
    record,
    audit: await store.listAudit(workflowId),
    deadlines: await store.listDeadlines(workflowId),
    outbox: (await store.listOutbox(workflowId)).map(({ effectId, status, kind, idempotencyKey, payload }) => ({
      effectId,
      status,
      kind,
      idempotencyKey,
      payload,
    })),
    cancelOrders: (await store.queryCancelOrders({ orderId: record?.orderId ?? '', limit: 500 })).items,
  };
}

/** Every row of every table of a SQLite file, for exact before/after comparisons. */
export function dumpSqlite(filename: string): Record<string, unknown[]> {
  const db = new Database(filename, { readonly: true });
  try {
    const tables = db.prepare<[], string>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
    return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}" ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}
