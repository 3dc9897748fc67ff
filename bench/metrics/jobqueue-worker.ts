/**
 * One worker process of the `jobqueue` suite (jobqueue.ts): either the durable runtime's background
 * loops on a PostgreSQL schema (`runtime`), or a graphile-worker 0.17.3 runner (`graphile`, its default
 * options: concurrency 1, pollInterval 2 s, LISTEN/NOTIFY for new jobs) whose tasks update one row.
 *
 *   node --import tsx bench/metrics/jobqueue-worker.ts '<json JobQueueWorkerSetup>'
 *
 * stdout, one JSON line each: `{"ready":true}` when set up (nothing runs yet); stdin `go` starts the
 * loops or the runner; stdin `stop` stops them and answers `{"stopped":true,"cpuSeconds":…}` (process
 * CPU, user + system, from `go` to `stop`), then the process exits.
 */
import { appendFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Logger, run, type Runner } from 'graphile-worker';
import {
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type Commit,
  type NotificationService,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';

export interface JobQueueWorkerSetup {
  kind: 'runtime' | 'graphile';
  url: string;
  index: number;
  /** runtime: the store's schema; graphile: graphile-worker's schema. */
  schema: string;
  /** runtime: a fixed clock (the overdue sweep) or the real one (punctuality). */
  fixedNow?: number;
  /** graphile: the schema holding the rows its tasks update (`gw_rows`, `gw_punctual`). */
  rowsSchema?: string;
}

/** The task payloads: `bump` is one job of the drain, `punctual` one of the punctuality run. */
interface BumpPayload {
  id: number;
}

const setup = JSON.parse(process.argv[2] ?? '') as JobQueueWorkerSetup;
const print = (value: unknown) => writeSync(1, `${JSON.stringify(value)}\n`);
/** A notification service that answers at once and keeps nothing. */
const silentNotifications: NotificationService = { notify: async () => {} };

let start: () => Promise<void>;
let stop: () => Promise<void>;

/**
 * JOBQUEUE_TRACE=<dir>: the runtime worker writes one JSON line per store call of the deadline path
 * (claim, lookup/load, commit) with its start and end (ms, this machine's clock) to <dir>/runtime-<index>.jsonl:
 * where a late deadline waited (wake, claim, step, commit).
 */
function traced(store: WorkflowStore, dir: string | undefined): WorkflowStore {
  if (!dir) return store;
  const file = `${dir}/runtime-${setup.schema}-${setup.index}.jsonl`;
  const log = (line: unknown) => appendFileSync(file, `${JSON.stringify(line)}\n`);
  const phases: Record<string, (args: unknown[], result: unknown) => unknown> = {
    claimDueDeadlines: (_args, rows) => (rows as Array<{ workflowId: string; dueAt: number }>).map((row) => [row.workflowId, row.dueAt]),
    lookup: (args) => args[0],
    load: (args) => args[0],
    commit: (args) => (args[0] as Commit).workflow.workflowId,
    commitAll: (args) => (args[0] as Commit[]).map((commit) => commit.workflow.workflowId),
    nextDueAt: (_args, result) => result,
  };
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      const describe = phases[String(property)];
      if (!describe) return method;
      return async (...args: unknown[]) => {
        const start = Date.now();
        const result = await method(...args);
        log({ phase: property, start, end: Date.now(), what: describe(args, result) });
        return result;
      };
    },
  });
}

if (setup.kind === 'runtime') {
  const store = traced(createPostgresStore({ connectionString: setup.url, schema: setup.schema }), process.env.JOBQUEUE_TRACE);
  const fixedNow = setup.fixedNow;
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: fixedNow === undefined ? () => Date.now() : () => fixedNow },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: silentNotifications,
    workerId: `bench-${setup.index}`,
    onError: (error, context) => process.stderr.write(`runtime worker ${setup.index}: ${context}: ${String(error)}\n`),
  });
  start = async () => runtime.start();
  stop = () => runtime.close();
} else {
  const rows = `"${setup.rowsSchema}"`;
  const nowMs = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
  let runner: Runner | undefined;
  start = async () => {
    runner = await run({
      connectionString: setup.url,
      schema: setup.schema,
      concurrency: 1,
      noHandleSignals: true,
      logger: new Logger(() => () => {}),
      taskList: {
        bump: async (payload, helpers) => {
          await helpers.query(`UPDATE ${rows}.gw_rows SET n = n + 1, done_at = ${nowMs} WHERE id = $1`, [(payload as BumpPayload).id]);
        },
        punctual: async (payload, helpers) => {
          await helpers.query(`UPDATE ${rows}.gw_punctual SET done_at = ${nowMs} WHERE id = $1`, [(payload as BumpPayload).id]);
        },
      },
    });
  };
  stop = async () => {
    await runner?.stop();
  };
}

let cpu = process.cpuUsage();
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = line.trim();
  if (command === 'go') {
    cpu = process.cpuUsage();
    void start().catch((error: unknown) => {
      process.stderr.write(`${setup.kind} worker ${setup.index} failed to start: ${String(error)}\n`);
      process.exit(1);
    });
  } else if (command === 'stop') {
    const used = process.cpuUsage(cpu);
    void stop().then(() => {
      print({ stopped: true, cpuSeconds: (used.user + used.system) / 1e6 });
      process.exit(0);
    });
  }
});
print({ ready: true });
