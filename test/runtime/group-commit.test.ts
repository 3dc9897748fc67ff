import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore, type WorkflowRuntime, type WorkflowStore } from '../../src/runtime/index.js';
import type { BatchCommitStore, Commit } from '../../src/runtime/store.js';
import { host, orderInput } from './helpers.js';

/**
 * Group commit (GroupCommitter, src/runtime/group-commit.ts): commits handed over together are written in
 * one `commitAll`; at most two groups are written at once, and commits handed over meanwhile wait and go
 * together in the next group. Each caller is answered only after its own group was written. The store is
 * the real memory store; its `commitAll` is held open until the test lets it finish.
 */

interface HeldGroup {
  workflowIds: string[];
  release(): void;
  fail(error: Error): void;
}

type HoldingStore = WorkflowStore & BatchCommitStore & { groups: HeldGroup[] };

function holding(): HoldingStore {
  const store = createMemoryStore();
  const wrapped: HoldingStore = {
    ...store,
    groups: [],
    commitAll(commits: readonly Commit[]) {
      return new Promise<unknown[]>((resolve, reject) => {
        let settled = false;
        const once = (settle: () => void) => () => {
          if (settled) return;
          settled = true;
          settle();
        };
        wrapped.groups.push({
          workflowIds: commits.map((commit) => commit.workflow.workflowId),
          release: once(() => void store.commitAll(commits).then(resolve, reject)),
          fail: (error) => once(() => reject(error))(),
        });
      });
    },
  };
  return wrapped;
}

/** Lets the event loop turn until `done` holds (at most 200 turns). */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 200 && !done(); turn += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

/** Lets the event loop turn `count` times. */
async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('group commit: at most two groups written at once', () => {
  let runtime: WorkflowRuntime | undefined;
  let held: HoldingStore | undefined;
  afterEach(async () => {
    // a group a failed test left open would hold close()
    for (const group of held?.groups ?? []) group.release();
    await runtime?.close().catch(() => {});
    runtime = undefined;
  });

  async function start(store: HoldingStore): Promise<WorkflowRuntime> {
    held = store;
    ({ runtime } = await host({ store }));
    return runtime;
  }

  /** Opens the orders now; each promise's state is tracked. */
  function openAll(runtime: WorkflowRuntime, orderIds: string[]) {
    return orderIds.map((orderId) => {
      const tracked = { orderId, settled: false as false | 'ok' | 'failed', error: undefined as unknown };
      runtime.openOrder({ input: orderInput(orderId) }).then(
        () => {
          tracked.settled = 'ok';
        },
        (error: unknown) => {
          tracked.settled = 'failed';
          tracked.error = error;
        },
      );
      return tracked;
    });
  }

  it('INV4: commits handed over while two groups are written wait, go together in the next group, and are answered after it', async () => {
    const store = holding();
    const runtime = await start(store);
    const first = openAll(runtime, ['o1', 'o2', 'o3']);
    await turnsUntil(() => store.groups.length === 1);
    const second = openAll(runtime, ['o4', 'o5']);
    await turnsUntil(() => store.groups.length === 2);
    const waiting = openAll(runtime, ['o6', 'o7', 'o8', 'o9']);
    await turns(20);
    // two groups are being written: the third waits, and nobody is answered before its group is written
    expect(store.groups.map((group) => group.workflowIds.sort())).toEqual([
      ['o1', 'o2', 'o3'],
      ['o4', 'o5'],
    ]);
    expect([...first, ...second, ...waiting].every((tracked) => tracked.settled === false)).toBe(true);

    store.groups[0]!.release();
    await turnsUntil(() => store.groups.length === 3);
    expect(first.map((tracked) => tracked.settled)).toEqual(['ok', 'ok', 'ok']);
    expect(store.groups[2]!.workflowIds.sort()).toEqual(['o6', 'o7', 'o8', 'o9']);
    expect([...second, ...waiting].every((tracked) => tracked.settled === false)).toBe(true);

    store.groups[2]!.release();
    store.groups[1]!.release();
    await turnsUntil(() => [...second, ...waiting].every((tracked) => tracked.settled === 'ok'));
    for (const orderId of ['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9']) {
      expect((await store.load(orderId))?.version, orderId).toBe(1);
    }
    expect(store.groups).toHaveLength(3);
  });

  it('INV4: a group whose transaction fails rejects only its own callers, writes none of them, and the waiting commits are still written', async () => {
    const store = holding();
    const runtime = await start(store);
    const failing = openAll(runtime, ['f1', 'f2']);
    await turnsUntil(() => store.groups.length === 1);
    const second = openAll(runtime, ['o1', 'o2']);
    await turnsUntil(() => store.groups.length === 2);
    const waiting = openAll(runtime, ['o3', 'o4']);
    await turns(20);

    store.groups[0]!.fail(new Error('store unavailable during the group'));
    await turnsUntil(() => failing.every((tracked) => tracked.settled === 'failed'));
    expect(failing.map((tracked) => (tracked.error as Error).message)).toEqual([
      'store unavailable during the group',
      'store unavailable during the group',
    ]);
    expect(await store.load('f1')).toBeUndefined();
    expect(await store.load('f2')).toBeUndefined();

    await turnsUntil(() => store.groups.length === 3);
    store.groups[1]!.release();
    store.groups[2]!.release();
    await turnsUntil(() => [...second, ...waiting].every((tracked) => tracked.settled === 'ok'));
    for (const orderId of ['o1', 'o2', 'o3', 'o4']) expect((await store.load(orderId))?.version, orderId).toBe(1);
    // the failed orders can be opened again: nothing of them was written
    const again = openAll(runtime, ['f1']);
    await turnsUntil(() => store.groups.length === 4 || again[0]!.settled !== false);
    store.groups[3]?.release();
    await turnsUntil(() => again[0]!.settled === 'ok');
    expect((await store.load('f1'))?.version).toBe(1);
  });
});
