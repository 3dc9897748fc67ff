import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/runtime/postgres-store.js';
import { createSqliteStore } from '../../src/runtime/sqlite-store.js';
import type { LookupStore, WorkflowStore } from '../../src/runtime/store.js';
import { tempDir } from '../runtime/helpers.js';
import { makeCommand, makeCommit } from '../store-contract.js';
import { freshSchema, pgUrl } from '../support/postgres.js';

/**
 * `lookup` (the optional LookupStore capability) reads what `getCommand` and `load` would, in one read,
 * and leaves the snapshot out only at the version the caller holds live.
 */
type Store = WorkflowStore & LookupStore;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const backends: Array<[string, () => Promise<Store>]> = [
  [
    'SQLite',
    async () => {
      const temp = tempDir('lookup-');
      const store = createSqliteStore({ filename: join(temp.dir, 'lookup.db') });
      cleanups.push(temp.cleanup, () => store.close());
      await store.migrate();
      return store;
    },
  ],
];
if (pgUrl) {
  backends.push([
    'PostgreSQL',
    async () => {
      const fresh = await freshSchema();
      const store = createPostgresStore({ connectionString: pgUrl, schema: fresh.schema });
      cleanups.push(fresh.drop, () => store.close());
      await store.migrate();
      return store;
    },
  ]);
}

describe.each(backends)('lookup on %s', (_name, makeStore) => {
  it('returns the recorded command and the whole record, as getCommand and load do', async () => {
    const store = await makeStore();
    await store.commit(makeCommit('w1', 1));
    await store.commit({ ...makeCommit('w1', 2), command: makeCommand('c1', 'w1') });
    const found = await store.lookup('w1', { command: { scope: 'client', commandId: 'c1' } });
    expect(found.command).toEqual(await store.getCommand('w1', 'client', 'c1'));
    expect(found.workflow).toEqual(await store.load('w1'));
  });

  it('leaves the snapshot out only at the live version', async () => {
    const store = await makeStore();
    await store.commit(makeCommit('w1', 1));
    await store.commit(makeCommit('w1', 2));
    const { snapshot: _snapshot, ...header } = (await store.load('w1'))!;
    const live = await store.lookup('w1', { liveVersion: 2 });
    expect(live.workflow).toEqual(header);
    expect(live.workflow && 'snapshot' in live.workflow).toBe(false);
    expect((await store.lookup('w1', { liveVersion: 1 })).workflow).toEqual(await store.load('w1'));
    expect((await store.lookup('w1', { liveVersion: null })).workflow).toEqual(await store.load('w1'));
  });

  it('finds nothing for an unknown workflow, command, scope or an unstorable key', async () => {
    const store = await makeStore();
    await store.commit(makeCommit('w1', 1));
    expect(await store.lookup('nope', { command: { scope: 'client', commandId: 'c1' } })).toEqual({ command: undefined, workflow: undefined });
    const other = await store.lookup('w1', { command: { scope: 'runtime', commandId: 'c1' } });
    expect(other.command).toBeUndefined();
    expect(other.workflow).toEqual(await store.load('w1'));
    expect(await store.lookup('bad\u0000id', {})).toEqual({ command: undefined, workflow: undefined });
  });

  it('refuses a malformed scope with a TypeError', async () => {
    const store = await makeStore();
    await expect(store.lookup('w1', { command: { scope: 'admin' as never, commandId: 'c1' } })).rejects.toThrow(TypeError);
  });
});
