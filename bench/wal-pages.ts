/**
 * Where a durable command's writes go: WAL pages per command, per b-tree (issue 14, docs/performance.md).
 *
 *   node --import tsx bench/wal-pages.ts [orders]
 *
 * Runs `orders` orders (default 200, six commands each, one transaction per command, after 50 orders of
 * warm-up) through the runtime on a SQLite file whose connections never checkpoint automatically, then
 * reads the WAL: every frame written by those commands is attributed to the b-tree owning its page
 * (`dbstat`). Counts of pages are independent of the machine's load.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { COMMANDS_PER_ORDER, runOrder, sqliteRuntime } from './metrics/durable.js';

// Every connection opened from here on keeps the whole WAL (the store's own one included).
const pragma = Database.prototype.pragma;
Database.prototype.pragma = function (this: Database.Database, source: string, options?: Database.PragmaOptions) {
  if (source === 'journal_mode = WAL') pragma.call(this, 'wal_autocheckpoint = 0');
  return pragma.call(this, source, options);
} as typeof Database.prototype.pragma;

const orders = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'bench-wal-'));
try {
  const file = join(dir, 'wal.db');
  const runtime = await sqliteRuntime(file, undefined, { groupCommit: false });
  for (let i = 0; i < 50; i++) await runOrder(runtime, `warm${i}`);
  const start = statSync(`${file}-wal`).size;
  for (let i = 0; i < orders; i++) await runOrder(runtime, `o${i}`);
  const wal = readFileSync(`${file}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const db = new Database(file);
  const owner = new Map<number, string>();
  for (const row of db.prepare(`SELECT name, pageno FROM dbstat`).all() as Array<{ name: string; pageno: number }>)
    owner.set(row.pageno, row.name);
  db.close();
  await runtime.close();
  const counts = new Map<string, number>();
  let frames = 0;
  for (let offset = start; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize) {
    const page = wal.readUInt32BE(offset);
    const name = owner.get(page) ?? 'other';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    frames += 1;
  }
  const commands = orders * COMMANDS_PER_ORDER;
  console.log(`${(frames / commands).toFixed(2)} WAL pages per command (${commands} commands)`);
  for (const [name, count] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${name.padEnd(36)} ${(count / commands).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
