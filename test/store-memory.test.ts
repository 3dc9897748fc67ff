import { describe, expect, it } from 'vitest';
import { DuplicateCommandError, VersionConflictError } from '../src/errors.js';
import { createMemoryStore, type MemoryStore } from '../src/runtime/memory-store.js';
import type { BatchCommitStore, WorkflowStore } from '../src/runtime/store.js';
import { claimAt, describeStoreContract, makeCommand, makeCommit, makeDeadline, makeEffect, T0 } from './store-contract.js';

describeStoreContract('memory', async () => createMemoryStore());

/** A WorkflowStore that reaches the memory store only through its synchronous view. */
function throughSyncView(store: MemoryStore): WorkflowStore & BatchCommitStore {
  const { sync } = store;
  return {
    migrate: async () => {},
    close: async () => {},
    load: async (...args) => sync.load(...args),
    commit: async (...args) => sync.commit(...args),
    commitAll: async (...args) => sync.commitAll(...args),
    getCommand: async (...args) => sync.getCommand(...args),
    claimDueDeadlines: async (...args) => sync.claimDueDeadlines(...args),
    claimOutbox: async (...args) => sync.claimOutbox(...args),
    extendEffectLease: async (...args) => sync.extendEffectLease(...args),
    recordEffectFailure: async (...args) => sync.recordEffectFailure(...args),
    completeEffect: async (...args) => sync.completeEffect(...args),
    listDeadlines: async (...args) => sync.listDeadlines(...args),
    listOutbox: async (...args) => sync.listOutbox(...args),
    listAudit: async (...args) => sync.listAudit(...args),
    queryCancelOrders: async (...args) => sync.queryCancelOrders(...args),
    queryDisputes: async (...args) => sync.queryDisputes(...args),
    countDisputes: async (...args) => sync.countDisputes(...args),
    nextDueAt: async (...args) => sync.nextDueAt(...args),
    highWaterMark: async (...args) => sync.highWaterMark(...args),
  };
}

// The synchronous view is held to the whole contract: same semantics, no promise in between.
describeStoreContract('memory, synchronous view', async () => throughSyncView(createMemoryStore()));

describe('memory store: synchronous view', () => {
  it('answers without a promise and refuses a commit by throwing at the call', () => {
    const { sync } = createMemoryStore();
    const commit = makeCommit('wf-1', 1, { deadlines: [makeDeadline('wf-1', T0)], command: makeCommand('cmd-1', 'wf-1') });

    expect(sync.commit(commit)).toBeUndefined();
    expect(sync.load('wf-1')).toEqual(commit.workflow);
    expect(sync.getCommand('wf-1', 'client', 'cmd-1')).toEqual(commit.command);
    expect(sync.claimDueDeadlines(claimAt('worker-a', T0))).toEqual(commit.deadlines);
    expect(sync.nextDueAt()).toBe(T0 + 30_001);
    expect(() => sync.commit(commit)).toThrow(VersionConflictError);
    expect(() => sync.commit(makeCommit('wf-1', 2, { command: makeCommand('cmd-1', 'wf-1') }))).toThrow(DuplicateCommandError);
  });

  it('shares one state with the async view: a write through either is read through both', async () => {
    const store = createMemoryStore();
    store.sync.commit(makeCommit('wf-1', 1, { outbox: [makeEffect('wf-1', 'refund-1')] }));
    await store.commit(makeCommit('wf-1', 2));

    expect(store.sync.load('wf-1')).toEqual(await store.load('wf-1'));
    expect(store.sync.load('wf-1')).toMatchObject({ version: 2 });
    expect(await store.claimOutbox(claimAt('worker-a', T0))).toHaveLength(1);
    expect(store.sync.claimOutbox(claimAt('worker-b', T0))).toEqual([]);
  });
});
