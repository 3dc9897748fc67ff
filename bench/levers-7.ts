/**
 * Issue 14, seventh round: SQLite commits written on a worker thread, against the store as shipped (the
 * commit on the engine's thread), in the workload of `durable.sqliteVsBareActor` (64 orders in flight,
 * live cache and group commit on), measured in rotation in one process. Measured, not shipped: see
 * docs/performance.md.
 *
 *   node --import tsx bench/levers-7.ts [--quick]
 *
 * The writer thread opens a second connection to the same file. On the engine's thread the store reads as
 * shipped (`lookup`, `load` …); each commit is checked and serialised there (`assertCommitShape`: its
 * snapshot and JSON fields become text) and crosses as one JSON text per group; the writer thread revives
 * it (the snapshot stays text) and writes the group with `commitAll`, answering each group as soon as its
 * transaction committed. The writer's store checks each commit again (the shipped store has no entry for
 * commits checked elsewhere): work on the writer, which is idle about half the time, not on the engine's. `groupsOf` sets the group committer's largest group (64 as shipped): smaller groups
 * let the engine step one group while the writer writes the one before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { GroupCommitter } from '../src/runtime/group-commit.js';
import { createSqliteStore } from '../src/runtime/sqlite-store.js';
import { assertCommitShape, type CommitJson, withSnapshotText, workflowColumns } from '../src/runtime/store-common.js';
import type { Commit, WorkflowStore } from '../src/runtime/store.js';
import type { WorkflowRuntime } from '../src/runtime/index.js';
import { startTsxThread } from './child.js';
import { comparisonOf, measureRotation, round, roundSpread } from './harness.js';
import { COMMANDS_PER_ORDER, concurrently, runOrder, sqliteRuntime } from './metrics/durable.js';

type Wire = { commit: Commit; texts: CommitJson };

/** A commit without its JSON values (they cross as `texts`) and without the snapshot (its text is `texts.snapshot`). */
const toWire = (commit: Commit): Wire => ({
  texts: assertCommitShape(commit),
  commit: {
    ...commit,
    workflow: { ...workflowColumns(commit.workflow), snapshot: null },
    audit: commit.audit.map((row) => ({ ...row, event: null, resultingState: null })),
    outbox: commit.outbox.map((row) => ({ ...row, payload: null })),
    command: commit.command && { ...commit.command, result: null },
  },
});

const revive = ({ commit, texts }: Wire): Commit => ({
  ...commit,
  workflow: withSnapshotText(workflowColumns(commit.workflow), texts.snapshot),
  audit: commit.audit.map((row, i) => ({
    ...row,
    event: JSON.parse(texts.audit[i]!.event) as unknown,
    resultingState: JSON.parse(texts.audit[i]!.resultingState) as unknown,
  })),
  outbox: commit.outbox.map((row, i) => ({ ...row, payload: JSON.parse(texts.outbox[i]!) as unknown })) as Commit['outbox'],
  command: commit.command && { ...commit.command, result: JSON.parse(texts.commandResult ?? 'null') as unknown },
});

if (!isMainThread) {
  const store = createSqliteStore({ filename: (workerData as { filename: string }).filename });
  let queue = Promise.resolve();
  parentPort!.on('message', ({ id, wire }: { id: number; wire: string }) => {
    queue = queue.then(async () => {
      const commits = (JSON.parse(wire) as Wire[]).map(revive);
      const outcomes = await store.commitAll(commits).catch((error: unknown) => commits.map(() => error));
      parentPort!.postMessage({ id, refused: outcomes.map((outcome) => (outcome === null ? null : String(outcome))) });
    });
  });
} else {
  await main();
}

/** The SQLite store as shipped, its commits written by a writer thread (a refusal crosses as its message only: this workload has none). */
function writerThreadStore(filename: string): WorkflowStore & { commitAll(commits: readonly Commit[]): Promise<unknown[]> } {
  const local = createSqliteStore({ filename });
  const worker = startTsxThread(import.meta.url, { filename });
  const pending = new Map<number, (refused: Array<string | null>) => void>();
  let nextId = 0;
  worker.on('message', ({ id, refused }: { id: number; refused: Array<string | null> }) => {
    pending.get(id)?.(refused);
    pending.delete(id);
  });
  const commitAll = async (commits: readonly Commit[]) => {
    const wire = JSON.stringify(commits.map(toWire));
    const id = nextId++;
    const refused = await new Promise<Array<string | null>>((resolve) => {
      pending.set(id, resolve);
      worker.postMessage({ id, wire });
    });
    return refused.map((reason) => (reason === null ? null : new Error(reason)));
  };
  return {
    ...local,
    commitAll,
    async commit(commit) {
      const [refused] = await commitAll([commit]);
      if (refused) throw refused;
    },
    async close() {
      await worker.terminate();
      await local.close();
    },
  };
}

async function main() {
  const quick = process.argv.includes('--quick');
  const orders = quick ? 200 : 400;
  const rounds = quick ? 6 : 12;
  const dir = mkdtempSync(join(tmpdir(), 'bench-levers-7-'));
  const runtimes: WorkflowRuntime[] = [];
  let prefix = 0;
  /** Each variant's runtime and file, opened once (the writer thread starts outside the samples); fresh orders per sample. */
  const openVariant = async (variant: { thread: boolean; groupsOf: number }) => {
    const filename = join(dir, `${runtimes.length}.db`);
    const target = await sqliteRuntime(filename, undefined, {}, variant.thread ? writerThreadStore(filename) : undefined);
    runtimes.push(target);
    if (variant.groupsOf !== 64) {
      const store = (target as unknown as { store: WorkflowStore }).store;
      (target as unknown as { committer: GroupCommitter }).committer = new GroupCommitter(store, true, variant.groupsOf);
    }
    await runOrder(target, 'first'); // the writer thread has started and written
    return async (iterations: number) => {
      const at = `s${prefix++}-`;
      let next = 0;
      await concurrently(iterations / COMMANDS_PER_ORDER, 64, () => runOrder(target, `${at}${next++}`));
    };
  };
  const variants = {
    asShipped: { thread: false, groupsOf: 64 },
    writerThread64: { thread: true, groupsOf: 64 },
    writerThread32: { thread: true, groupsOf: 32 },
    writerThread16: { thread: true, groupsOf: 16 },
  };
  try {
    const runs: Parameters<typeof measureRotation>[0] = {};
    for (const [name, variant] of Object.entries(variants))
      runs[name] = { run: await openVariant(variant), iterations: orders * COMMANDS_PER_ORDER };
    const samples = await measureRotation(runs, rounds);
    const results: Record<string, unknown> = {};
    for (const name of Object.keys(variants).filter((name) => name !== 'asShipped')) {
      const result = comparisonOf(samples, name, 'asShipped');
      results[name] = {
        ratio: round(result.ratio),
        ratioSpread: roundSpread(result.ratioSpread),
        cpuRatio: round(result.cpuRatio),
        commandsPerSecond: Math.round(result.candidate.opsPerSecond),
        asShipped: Math.round(result.baseline.opsPerSecond),
      };
    }
    console.log(JSON.stringify({ orders, rounds, results }, null, 2));
  } finally {
    for (const runtime of runtimes) await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
