import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { CUSTOMER, ManualClock, MERCHANT, orderInput, PLATFORM, tempDir } from './helpers.js';
import type { OrderEventInput } from '../../src/index.js';
import type { LookupStore } from '../../src/runtime/store.js';

/**
 * The runtime keeps hot workflows live between commands (src/runtime/live-cache.ts). Two runtimes on
 * one store: a command of the second lands between the first one's caching and its next command, or
 * between its load and its commit. The first must act on what the store holds, never on its cached actor.
 */

type Stats = { hits: number; misses: number; stale: number; size: number };
const statsOf = (runtime: WorkflowRuntime): Stats => (runtime as unknown as { liveCacheStats(): Stats }).liveCacheStats();

const dispute = { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd1' } satisfies OrderEventInput;
const plan = { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' } satisfies OrderEventInput;
const forced = { type: 'merchant.refundForced', by: MERCHANT, cancellationId: 'd1:intercept-48h' } satisfies OrderEventInput;
const shipped = { type: 'order.shipped', by: { role: 'system', id: 'oms' } } satisfies OrderEventInput;

const backends: Array<[string, (dir: string) => () => WorkflowStore]> = [
  [
    'memory store',
    () => {
      const store = createMemoryStore();
      // one store shared by both runtimes; closing it twice is harmless
      return () => store;
    },
  ],
  ['SQLite file', (dir) => () => createSqliteStore({ filename: join(dir, 'shared.db') })],
];

describe.each(backends)('live cache, two runtimes on one %s', (_name, backend) => {
  let temp = tempDir('live-cache-');
  const runtimes: WorkflowRuntime[] = [];
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close().catch(() => {});
    temp.cleanup();
    temp = tempDir('live-cache-');
  });

  async function twoRuntimes(wrapFirst?: (store: WorkflowStore) => WorkflowStore) {
    const clock = new ManualClock();
    const open = backend(temp.dir);
    const make = async (store: WorkflowStore, workerId: string) => {
      await store.migrate();
      const runtime = createWorkflowRuntime({
        store,
        clock,
        payments: createSandboxPayments(),
        logistics: createSandboxLogistics(),
        workerId,
        onError: () => {},
      });
      runtimes.push(runtime);
      return runtime;
    };
    const first = await make(wrapFirst ? wrapFirst(open()) : open(), 'first');
    const second = await make(open(), 'second');
    return { first, second, clock };
  }

  it('the second runtime commits between the first one caching and its next command: the first acts on the stored version', async () => {
    const { first, second } = await twoRuntimes();
    await first.openOrder({ input: orderInput('o1') });
    const opened = await first.dispatch({ workflowId: 'o1', commandId: 'c1', event: dispute });
    expect(opened.version).toBe(2);
    expect(statsOf(first).size).toBe(1); // the first runtime keeps o1 live at version 2

    const planned = await second.dispatch({ workflowId: 'o1', commandId: 'c2', event: plan });
    expect(planned.version).toBe(3);

    // Only valid after the plan: on the cached (version 2) actor it would be refused.
    const refunding = await first.dispatch({ workflowId: 'o1', commandId: 'c3', event: forced });
    expect(refunding.version).toBe(4);
    expect(refunding.event?.type).toBe('merchant.refundForced');
    expect(statsOf(first).stale).toBe(1);

    const audit = await second.getAuditTrail(PLATFORM, 'o1');
    expect(audit.map((row) => row.eventType)).toEqual(['dispute.opened', 'merchant.planSubmitted', 'merchant.refundForced']);
    expect(audit.map((row) => row.seq)).toEqual([1, 2, 3]);
  });

  it('the second runtime commits between the first one loading and committing: the conflict drops the cached actor', async () => {
    let interleave: (() => Promise<unknown>) | null = null;
    const afterRead = async <T>(read: T): Promise<T> => {
      const run = interleave;
      interleave = null;
      if (run) await run();
      return read;
    };
    // The runtime reads a workflow through `lookup` where the store has it (SQLite), else `load`.
    const { first, second } = await twoRuntimes((store) => {
      const lookup = (store as Partial<LookupStore>).lookup?.bind(store);
      return {
        ...store,
        load: async (workflowId) => afterRead(await store.load(workflowId)),
        ...(lookup
          ? { lookup: async (workflowId: string, options: Parameters<LookupStore['lookup']>[1]) => afterRead(await lookup(workflowId, options)) }
          : {}),
      };
    });
    await first.openOrder({ input: orderInput('o2') });
    await first.dispatch({ workflowId: 'o2', commandId: 'c1', event: dispute });
    expect(statsOf(first).size).toBe(1);

    // The first runtime loads version 2 and takes its live actor; the second commits version 3 meanwhile.
    interleave = () => second.dispatch({ workflowId: 'o2', commandId: 'c2', event: shipped });
    const result = await first.dispatch({ workflowId: 'o2', commandId: 'c3', event: plan });
    expect(result.version).toBe(4);

    const view = await second.getWorkflow(PLATFORM, 'o2');
    expect(view.version).toBe(4);
    const audit = await second.getAuditTrail(PLATFORM, 'o2');
    expect(audit.map((row) => row.eventType)).toEqual(['dispute.opened', 'order.shipped', 'merchant.planSubmitted']);
    // The shipment is in the state the plan was applied to (the retry restored version 3, not the cache).
    const forcedAfter = await first.dispatch({ workflowId: 'o2', commandId: 'c4', event: forced });
    expect(forcedAfter.version).toBe(5);
    expect(statsOf(first).stale).toBe(0);

    // The actor of the refused commit was dropped, not kept: only the retry's (version 4) is cached.
    expect(statsOf(first)).toMatchObject({ size: 1 });
  });

  it('a refused event never leaves its actor in the cache', async () => {
    const { first } = await twoRuntimes();
    await first.openOrder({ input: orderInput('o3') });
    await expect(first.dispatch({ workflowId: 'o3', commandId: 'bad', event: forced })).rejects.toThrow();
    expect(statsOf(first).size).toBe(0);
    const ok = await first.dispatch({ workflowId: 'o3', commandId: 'c1', event: dispute });
    expect(ok.version).toBe(2);
  });
});
