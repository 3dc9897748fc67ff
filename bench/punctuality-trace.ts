/**
 * Where late deadlines waited, from the traces of `JOBQUEUE_TRACE=<dir> npm run bench -- --quick --only=jobqueue`
 * (bench/metrics/jobqueue-worker.ts): per fired deadline of the punctuality runs, the wake (its claim began
 * after it was due), the claim, the step (from the claim's end to its commit's start) and the commit.
 *
 *   node --import tsx bench/punctuality-trace.ts <dir>
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quantile, round } from './harness.js';

interface Line {
  phase: string;
  start: number;
  end: number;
  what: unknown;
}
const dir = process.argv[2];
if (!dir) throw new Error('usage: punctuality-trace.ts <dir>');
const runs = new Map<string, Array<Record<string, number>>>();
for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl'))) {
  // runtime-<schema>-<index>.jsonl: one file per worker process, one schema per run
  const schema = file.replace(/^runtime-/, '').replace(/-\d+\.jsonl$/, '');
  const rows = runs.get(schema) ?? [];
  runs.set(schema, rows);
  const lines = readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line);
  const commits = lines.filter((line) => line.phase === 'commit' || line.phase === 'commitAll');
  for (const claim of lines.filter((line) => line.phase === 'claimDueDeadlines')) {
    const claimed = claim.what as Array<[string, number]>;
    for (const [workflowId, dueAt] of claimed) {
      if (!workflowId.startsWith('punctual-')) continue;
      const commit = commits.find(
        (line) =>
          line.start >= claim.end && (Array.isArray(line.what) ? (line.what as string[]).includes(workflowId) : line.what === workflowId),
      );
      if (!commit) continue;
      rows.push({
        worker: Number(file.match(/-(\d+)\.jsonl$/)?.[1] ?? 0),
        batch: claimed.length,
        wake: claim.start - dueAt,
        claim: claim.end - claim.start,
        step: commit.start - claim.end,
        commit: commit.end - commit.start,
        late: commit.end - dueAt,
      });
    }
  }
}
for (const [schema, rows] of runs) {
  if (rows.length === 0) continue;
  const summary = (key: string) => {
    const values = rows.map((row) => row[key]!);
    return {
      p50: round(quantile(values, 0.5), 0),
      p90: round(quantile(values, 0.9), 0),
      p99: round(quantile(values, 0.99), 0),
      max: Math.max(...values),
    };
  };
  const workers = new Set(rows.map((row) => row.worker)).size;
  console.log(`${schema}: ${rows.length} fired deadlines traced, ${workers} worker process(es) fired them`);
  for (const key of ['late', 'wake', 'claim', 'step', 'commit', 'batch']) console.log(`  ${key.padEnd(7)} ${JSON.stringify(summary(key))}`);
  console.log(`  latest five ${JSON.stringify([...rows].sort((a, b) => b.late! - a.late!).slice(0, 5))}`);
}
