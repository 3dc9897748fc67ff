/**
 * SQLite under contention and faults. better-sqlite3 is synchronous: while SQLite waits for a lock the
 * whole process waits. The store waits one short slice at a time (busySliceMs) and yields between
 * slices; these tests measure what that costs and what the old single long wait cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { createSqliteStore, sqliteStoreError, type SqliteStoreOptions } from '../../src/runtime/sqlite-store.js';
import type { WorkflowStore } from '../../src/runtime/store.js';
import { makeCommit, rejection, storedState } from '../store-contract.js';

const dirs: string[] = [];
const closers: Array<() => unknown> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openStore(options: Omit<SqliteStoreOptions, 'filename'> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'jd-dispute-contention-'));
  dirs.push(dir);
  const filename = join(dir, 'store.db');
  const store = createSqliteStore({ filename, ...options });
  closers.push(() => store.close());
  await store.migrate();
  await store.commit(makeCommit('wf-1', 1));
  return { store, filename };
}

/** Another connection (as another process would) holding the write lock. */
function holdWriteLock(filename: string) {
  const holder = new Database(filename);
  closers.push(() => holder.open && holder.close());
  holder.exec('BEGIN IMMEDIATE');
  return { release: () => holder.exec('COMMIT') };
}

/** Longest gap between ticks of a 2 ms interval while `work` runs: how long the event loop was frozen. */
async function longestFreeze<T>(work: () => Promise<T>): Promise<{ result: T; freezeMs: number; elapsedMs: number }> {
  let last = performance.now();
  let freezeMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    freezeMs = Math.max(freezeMs, now - last);
    last = now;
  }, 2);
  const started = performance.now();
  try {
    const result = await work();
    return { result, freezeMs: Math.max(freezeMs, performance.now() - last), elapsedMs: performance.now() - started };
  } finally {
    clearInterval(ticker);
  }
}

async function commitWhileLockedFor(store: WorkflowStore, filename: string, holdMs: number) {
  const lock = holdWriteLock(filename);
  setTimeout(lock.release, holdMs);
  return longestFreeze(() => store.commit(makeCommit('wf-1', 2)));
}

describe('SQLite store under contention', () => {
  it('a write lock held elsewhere for 300 ms delays a commit by about that long, freezing the event loop for one short slice at most', async () => {
    const { store, filename } = await openStore({ busySliceMs: 10 });

    const { freezeMs, elapsedMs } = await commitWhileLockedFor(store, filename, 300);

    expect(elapsedMs).toBeGreaterThanOrEqual(280);
    expect(freezeMs).toBeLessThan(100);
    expect(await store.load('wf-1')).toMatchObject({ version: 2 });
    console.info(
      `sqlite contention, 300 ms lock, busySliceMs 10: commit took ${elapsedMs.toFixed(0)} ms, longest event-loop freeze ${freezeMs.toFixed(0)} ms`,
    );
  });

  it('one long synchronous wait (busySliceMs = busyTimeoutMs, the old behaviour) freezes the whole process: the lock holder cannot even run its release', async () => {
    const { store, filename } = await openStore({ busySliceMs: 1_000, busyTimeoutMs: 5_000 });

    const { freezeMs, elapsedMs } = await commitWhileLockedFor(store, filename, 300);

    // The release is a timer of this process: it only runs once SQLite gives up its 1 s wait.
    expect(freezeMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(await store.load('wf-1')).toMatchObject({ version: 2 });
    console.info(
      `sqlite contention, 300 ms lock, busySliceMs 1000: commit took ${elapsedMs.toFixed(0)} ms, longest event-loop freeze ${freezeMs.toFixed(0)} ms`,
    );
  });

  it('INV4: a lock held past busyTimeoutMs fails the commit with StoreUnavailableError (SQLITE_BUSY), writes nothing, and the retry succeeds', async () => {
    const { store, filename } = await openStore({ busyTimeoutMs: 200 });
    const lock = holdWriteLock(filename);
    const before = await storedState(store, 'wf-1');

    const { result: error, elapsedMs, freezeMs } = await longestFreeze(() => rejection(store.commit(makeCommit('wf-1', 2))));

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true, store: 'sqlite', operation: 'commit', driverCode: 'SQLITE_BUSY' });
    expect((error as Error).cause).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(elapsedMs).toBeGreaterThanOrEqual(190);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(freezeMs).toBeLessThan(100);
    expect(await storedState(store, 'wf-1')).toEqual(before);

    lock.release();
    await store.commit(makeCommit('wf-1', 2));
    expect(await store.load('wf-1')).toMatchObject({ version: 2 });
  });

  it('reads go on at once while another connection holds the write lock (WAL); writes such as a claim wait, then fail typed', async () => {
    const { store, filename } = await openStore({ busyTimeoutMs: 200 });
    holdWriteLock(filename);

    const { result, elapsedMs } = await longestFreeze(() => store.load('wf-1'));

    expect(result).toMatchObject({ version: 1 });
    expect(elapsedMs).toBeLessThan(100);
    await expect(store.claimDueDeadlines({ workerId: 'w', now: 0, leaseMs: 1, limit: 1 })).rejects.toThrow(StoreUnavailableError);
  });

  it('SQLITE_FULL, SQLITE_IOERR and SQLITE_BUSY are StoreUnavailableError with the driver code inside; other SQLite errors stay as they are', () => {
    const db = new Database(':memory:');
    closers.push(() => db.close());
    db.exec('CREATE TABLE t (x TEXT NOT NULL)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    let full: unknown;
    try {
      db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(pageSize * 4));
    } catch (error) {
      full = error;
    }
    let notNull: unknown;
    try {
      db.prepare('INSERT INTO t VALUES (NULL)').run();
    } catch (error) {
      notNull = error;
    }

    expect(full).toMatchObject({ code: 'SQLITE_FULL' });
    const mapped = sqliteStoreError(full, 'commit');
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect(mapped).toMatchObject({ driverCode: 'SQLITE_FULL', retryable: true, cause: full });
    const ioerr = Object.assign(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'), {});
    expect(sqliteStoreError(ioerr, 'commit')).toMatchObject({ driverCode: 'SQLITE_IOERR_WRITE' });
    expect(notNull).toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    expect(sqliteStoreError(notNull, 'commit')).toBe(notNull);
  });
});
