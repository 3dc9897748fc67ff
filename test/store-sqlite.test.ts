import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, SQLITE_MIGRATIONS } from '../src/runtime/sqlite-store.js';
import type { BatchCommitStore, OutboxKind, WorkflowStore } from '../src/runtime/store.js';
import { DuplicateCommandError } from '../src/errors.js';
import {
  claimAt,
  describeStoreContract,
  makeAudit,
  makeCancelOrder,
  makeCommand,
  makeCommit,
  makeDeadline,
  makeEffect,
  rejection,
  storedState,
  T0,
} from './store-contract.js';

const dirs: string[] = [];
function tempDbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jd-dispute-store-'));
  dirs.push(dir);
  return join(dir, 'store.db');
}
const removeTempDirs = async () => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
};

describeStoreContract('SQLite', async () => createSqliteStore({ filename: tempDbFile() }), removeTempDirs);

describe('SQLite store on disk', () => {
  const open: WorkflowStore[] = [];
  const openStore = async (filename: string) => {
    const store = createSqliteStore({ filename });
    open.push(store);
    await store.migrate();
    return store;
  };

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close().catch(() => {});
    await removeTempDirs();
  });

  it('keeps every row and live leases across close and reopen of the same file (INV5)', async () => {
    const filename = tempDbFile();
    const first = await openStore(filename);
    const deadline = makeDeadline('wf-1', T0);
    const commit = makeCommit('wf-1', 1, {
      deadlines: [deadline, makeDeadline('wf-1', T0 + 5000)],
      outbox: [makeEffect('wf-1', 'refund-1')],
      cancelOrders: [makeCancelOrder('cancel-1', 'wf-1')],
      command: makeCommand('cmd-1', 'wf-1'),
    });
    await first.commit(commit);
    await first.claimDueDeadlines(claimAt('worker-a', T0));
    const before = await storedState(first, 'wf-1');
    await first.close();

    const reopened = await openStore(filename);

    expect(await storedState(reopened, 'wf-1')).toEqual(before);
    expect(await reopened.getCommand('wf-1', 'client', 'cmd-1')).toEqual(commit.command);
    expect(await reopened.claimDueDeadlines(claimAt('worker-b', T0 + 1))).toEqual([]);
  });

  it('runs in WAL mode and records its schema version in user_version', async () => {
    const filename = tempDbFile();
    await openStore(filename);

    const probe = new Database(filename, { readonly: true });
    try {
      expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(probe.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      expect(SQLITE_MIGRATIONS.length).toBe(9);
    } finally {
      probe.close();
    }
  });

  it('X2: migration 2 rebuilds cancel_orders keyed by (workflow_id, cancellation_id) and keeps every row of a version 1 file', async () => {
    const filename = tempDbFile();
    const v1 = new Database(filename);
    v1.exec(SQLITE_MIGRATIONS[0]!);
    v1.pragma('user_version = 1');
    v1.prepare(`INSERT INTO workflows VALUES ('wf-1', 'order-wf-1', 'merchant-1', 1, '{}', 'active', ${T0}, ${T0}, ${T0})`).run();
    v1.prepare(
      `INSERT INTO cancel_orders VALUES ('cancel-1', 'wf-1', 'order-wf-1', 'merchant-1', 'refunded', 'changedMind',
         'customer', 'merchantAgreed', ${T0}, ${T0 + 5})`,
    ).run();
    v1.close();

    const store = await openStore(filename);
    // Migration 7 fills the customer from the workflow's snapshot (none here) and the refund reason from the trigger.
    const kept = makeCancelOrder('cancel-1', 'wf-1', {
      status: 'refunded',
      refundTriggerKind: 'merchantAgreed',
      updatedAt: T0 + 5,
      customerId: '',
      refundReason: 'changedMind',
    });
    expect(await store.queryCancelOrders({})).toEqual({ items: [kept], nextCursor: null });

    // The same cancel-order id in another workflow is a second row now, not an overwrite.
    const other = makeCancelOrder('cancel-1', 'wf-2');
    await store.commit(makeCommit('wf-2', 1, { cancelOrders: [other] }));
    expect(await store.queryCancelOrders({})).toEqual({ items: [kept, other], nextCursor: null });

    const probe = new Database(filename, { readonly: true });
    try {
      expect(probe.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      const key = probe
        .prepare<[], { name: string; pk: number }>(`SELECT name, pk FROM pragma_table_info('cancel_orders') WHERE pk > 0 ORDER BY pk`)
        .all();
      expect(key.map((column) => column.name)).toEqual(['workflow_id', 'cancellation_id']);
    } finally {
      probe.close();
    }
  });

  it('INV5: migration 3 gives every workflow of a version 2 file machineVersion 1 and the seq of its last audit row', async () => {
    const filename = tempDbFile();
    const v2 = new Database(filename);
    for (const sql of SQLITE_MIGRATIONS.slice(0, 2)) v2.exec(sql);
    v2.pragma('user_version = 2');
    const workflow = v2.prepare(`INSERT INTO workflows VALUES (?, 'order-1', 'merchant-1', ?, '{}', 'active', ${T0}, ${T0}, ${T0})`);
    const audit = v2.prepare(`INSERT INTO audit VALUES (?, ?, ${T0}, 'customer', 'c-1', 'E', '{}', '{}', NULL)`);
    workflow.run('wf-1', 3);
    for (const seq of [1, 2, 3, 4]) audit.run('wf-1', seq);
    workflow.run('wf-2', 1);
    v2.close();

    const store = await openStore(filename);

    expect(await store.load('wf-1')).toMatchObject({ version: 3, machineVersion: 1, auditSeq: 4 });
    expect(await store.load('wf-2')).toMatchObject({ version: 1, machineVersion: 1, auditSeq: 0 });
    // The next commit continues the trail at seq 5.
    await store.commit(makeCommit('wf-1', 4, { audit: [makeAudit('wf-1', 5)] }));
    expect((await store.listAudit('wf-1')).map((row) => row.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('INV6: migrations 4 and 6 file the earlier records of the runtime (open:<own id> as open, effect:<own id>|…) under the runtime scope, every other id under client', async () => {
    const filename = tempDbFile();
    const v3 = new Database(filename);
    for (const sql of SQLITE_MIGRATIONS.slice(0, 3)) v3.exec(sql);
    v3.pragma('user_version = 3');
    const workflow = v3.prepare(`INSERT INTO workflows VALUES (?, 'order-1', 'merchant-1', 1, '{}', 'active', ${T0}, ${T0}, ${T0}, 1, 0)`);
    workflow.run('wf-1');
    workflow.run('wf-2');
    const command = v3.prepare(`INSERT INTO commands VALUES (?, ?, 'h', '{"ok":true}', ${T0})`);
    const rows = [
      ['open:wf-1', 'wf-1', 'runtime'],
      ['effect:wf-1|refund|wf-1/d-1|1', 'wf-1', 'runtime'],
      // Forged by a client of wf-1 against wf-2 under the old global namespace: stays the client's.
      ['effect:wf-2|refund|wf-2/d-1|1', 'wf-1', 'client'],
      ['open:wf-2', 'wf-1', 'client'],
      ['key-1', 'wf-2', 'client'],
    ] as const;
    for (const [id, workflowId] of rows) command.run(id, workflowId);
    v3.close();

    const store = await openStore(filename);

    for (const [stored, workflowId, scope] of rows) {
      // The runtime's opening record is 'open' in its own scope now.
      const id = scope === 'runtime' && stored === `open:${workflowId}` ? 'open' : stored;
      expect(await store.getCommand(workflowId, scope, id)).toEqual({
        commandId: id,
        workflowId,
        scope,
        payloadHash: 'h',
        result: { ok: true },
        at: T0,
      });
      expect(await store.getCommand(workflowId, scope === 'client' ? 'runtime' : 'client', id)).toBeUndefined();
    }
  });

  it('INV5: migration 5 starts the clock high-water mark at the latest updatedAt of a version 4 file, and the mark survives a reopen', async () => {
    const filename = tempDbFile();
    const v4 = new Database(filename);
    for (const sql of SQLITE_MIGRATIONS.slice(0, 4)) v4.exec(sql);
    v4.pragma('user_version = 4');
    const workflow = v4.prepare(`INSERT INTO workflows VALUES (?, 'order-1', 'merchant-1', 1, '{}', 'active', ${T0}, ${T0}, ?, 1, 1)`);
    workflow.run('wf-1', T0 + 700);
    workflow.run('wf-2', T0 + 300);
    v4.close();

    const store = await openStore(filename);
    expect(await store.highWaterMark()).toBe(T0 + 700);
    await store.commit(makeCommit('wf-3', 1, { observedAt: T0 + 800 }));
    await store.close();

    expect(await (await openStore(filename)).highWaterMark()).toBe(T0 + 800);
  });

  it('refuses to migrate a database written by a newer schema version', async () => {
    const filename = tempDbFile();
    const newer = new Database(filename);
    newer.pragma('user_version = 99');
    newer.close();

    await expect(openStore(filename)).rejects.toThrow(/schema version 99/);
  });

  it('a commit failing mid-way (CHECK violation in an outbox row, after the workflow, deadline and audit writes) leaves nothing behind (INV4)', async () => {
    const store = await openStore(tempDbFile());
    await store.commit(makeCommit('wf-1', 1, { deadlines: [makeDeadline('wf-1', T0)] }));
    const before = await storedState(store, 'wf-1');

    const error = await rejection(
      store.commit(
        makeCommit('wf-1', 2, {
          audit: [makeAudit('wf-1', 2)],
          deadlines: [makeDeadline('wf-1', T0 + 1)],
          outbox: [makeEffect('wf-1', 'refund-1', { kind: 'bogus' as OutboxKind })],
          command: makeCommand('cmd-1', 'wf-1'),
          cancelOrders: [makeCancelOrder('cancel-1', 'wf-1')],
        }),
      ),
    );

    expect(String(error)).toMatch(/CHECK constraint failed/);
    expect(await storedState(store, 'wf-1')).toEqual(before);
    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toBeUndefined();
  });

  it('INV4: in commitAll, a commit failing mid-way is refused alone (no savepoints: the group is rolled back and each commit written on its own); refusals before any write cost no rollback', async () => {
    const store = await openStore(tempDbFile());
    const batch = store as WorkflowStore & BatchCommitStore;
    await store.commit(makeCommit('wf-1', 1, { deadlines: [makeDeadline('wf-1', T0)] }));
    await store.commit(makeCommit('wf-2', 1, { command: makeCommand('cmd-1', 'wf-2') }));
    await store.commit(makeCommit('wf-3', 1));
    const before = { wf1: await storedState(store, 'wf-1'), wf2: await storedState(store, 'wf-2') };

    const good = makeCommit('wf-3', 2, { audit: [makeAudit('wf-3', 2)], command: makeCommand('cmd-1', 'wf-3') });
    const failing = makeCommit('wf-1', 2, {
      audit: [makeAudit('wf-1', 2)],
      deadlines: [makeDeadline('wf-1', T0 + 1)],
      outbox: [makeEffect('wf-1', 'refund-1', { kind: 'bogus' as OutboxKind })],
      command: makeCommand('cmd-1', 'wf-1'),
    });
    const duplicate = makeCommit('wf-2', 2, { command: makeCommand('cmd-1', 'wf-2') });
    const fresh = makeCommit('wf-4', 1, { cancelOrders: [makeCancelOrder('cancel-4', 'wf-4')] });
    const outcomes = await batch.commitAll([good, failing, duplicate, fresh]);

    expect(outcomes[0]).toBeNull();
    expect(String(outcomes[1])).toMatch(/CHECK constraint failed/);
    expect(outcomes[2]).toBeInstanceOf(DuplicateCommandError);
    expect(outcomes[3]).toBeNull();
    // storedState lists every cancel order of the store: the fresh workflow's is the one new row
    expect(await storedState(store, 'wf-1')).toEqual({ ...before.wf1, cancelOrders: fresh.cancelOrders });
    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toBeUndefined();
    expect(await storedState(store, 'wf-2')).toEqual({ ...before.wf2, cancelOrders: fresh.cancelOrders });
    expect(await store.load('wf-3')).toMatchObject({ version: 2, auditSeq: 2 });
    expect(await store.getCommand('wf-3', 'client', 'cmd-1')).toMatchObject({ commandId: 'cmd-1' });
    expect(await storedState(store, 'wf-4')).toMatchObject({ workflow: fresh.workflow, cancelOrders: fresh.cancelOrders });
  });
});
