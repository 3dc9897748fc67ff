/**
 * The concurrent durable workload of `durable.sqliteVsBareActor` alone, for a CPU profile:
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-durable.ts [orders] [inFlight]
 *
 * Opens `orders` orders (default 1,500) and runs their six commands each, 64 in flight, on a SQLite
 * file with the runtime as shipped (live cache and group commit on). Prints the rate and the cache stats.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS_PER_ORDER, concurrently, runOrder, sqliteRuntime } from './metrics/durable.js';

const orders = Number(process.argv[2] ?? 1_500);
const inFlight = Number(process.argv[3] ?? 64);
const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
try {
  const runtime = await sqliteRuntime(join(dir, 'profile.db'));
  let next = 0;
  await concurrently(100, inFlight, () => runOrder(runtime, `warm${next++}`));
  const started = performance.now();
  await concurrently(orders, inFlight, () => runOrder(runtime, `o${next++}`));
  const seconds = (performance.now() - started) / 1000;
  const stats = (runtime as unknown as { liveCacheStats(): Record<string, number> }).liveCacheStats();
  console.log(JSON.stringify({ commandsPerSecond: Math.round((orders * COMMANDS_PER_ORDER) / seconds), seconds, ...stats }));
  await runtime.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
