import { describe, expect, it } from 'vitest';
import { createMemoryStore, createSandboxLogistics, createSandboxPayments, createWorkflowRuntime } from '../../src/runtime/index.js';
import type { BatchCommitStore, Commit, WorkflowStore } from '../../src/runtime/store.js';
import { CUSTOMER, HOUR, ManualClock, orderInput } from './helpers.js';

/**
 * A batch of deadlines that just fell due is committed in chunks of 1, 2, 4, … (the earliest does not
 * wait for every other step of the batch); a backlog goes in one transaction. Each fired deadline is
 * committed exactly once either way.
 */
async function batchOf(count: number, lateMs: number) {
  const clock = new ManualClock();
  const store = createMemoryStore();
  const chunks: number[] = [];
  const counted: WorkflowStore & BatchCommitStore = {
    ...store,
    commitAll: (commits: readonly Commit[]) => {
      chunks.push(commits.length);
      return store.commitAll(commits);
    },
  };
  const runtime = createWorkflowRuntime({
    store: counted,
    clock,
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: { notify: async () => {} },
    pollIntervalMs: 1_000,
    onError: () => {},
  });
  for (let i = 0; i < count; i++) {
    await runtime.openOrder({ input: orderInput(`o${i}`) });
    await runtime.dispatch({ workflowId: `o${i}`, commandId: `d${i}`, event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
  }
  // Every D7 merchant-response window (48 h) falls due at once.
  clock.advance(48 * HOUR + lateMs);
  const tick = await runtime.tick();
  const timerAudit = await Promise.all(
    Array.from({ length: count }, async (_, i) => (await store.listAudit(`o${i}`)).filter((row) => row.actorId === 'timer').length),
  );
  await runtime.close();
  return { chunks, fired: tick.deadlinesFired, timerAudit };
}

describe('deadline batches', () => {
  it('commits deadlines that just fell due in chunks of 1, 2, 4, … commits, each once', async () => {
    const { chunks, fired, timerAudit } = await batchOf(10, 0);
    expect(chunks).toEqual([1, 2, 4, 3]);
    expect(fired).toBe(10);
    expect(timerAudit).toEqual(Array(10).fill(1));
  });

  it('commits a backlog (due longer ago than the poll interval) in one transaction, each once', async () => {
    const { chunks, fired, timerAudit } = await batchOf(10, 5_000);
    expect(chunks).toEqual([10]);
    expect(fired).toBe(10);
    expect(timerAudit).toEqual(Array(10).fill(1));
  });
});
