import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
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
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { dropSchema, pgUrl } from '../support/postgres.js';
import type { BatchCommitStore, Commit, LookupStore } from '../../src/runtime/store.js';

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

const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas.splice(0)) await dropSchema(schema);
});

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
  // Two runtimes as two workers on one PostgreSQL schema (each with its own pool).
  ...(pgUrl
    ? ([
        [
          'PostgreSQL schema',
          () => {
            const schema = `t_${randomBytes(6).toString('hex')}`;
            schemas.push(schema);
            return () => createPostgresStore({ connectionString: pgUrl!, schema });
          },
        ],
      ] satisfies typeof backends)
    : []),
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

  it('the second runtime commits between the first one preparing and committing: the conflict drops the cached actor', async () => {
    let interleave: (() => Promise<unknown>) | null = null;
    /** `work`, after the pending interleaving (if any) has run. */
    const interleaved = async <T>(work: () => Promise<T>): Promise<T> => {
      const run = interleave;
      interleave = null;
      if (run) await run();
      return work();
    };
    // A command for a kept workflow goes straight to its commit (no read first); the interleaving lands
    // before the first store call of the first runtime's next command, whichever it is.
    const { first, second } = await twoRuntimes((store) => {
      const lookup = (store as Partial<LookupStore>).lookup?.bind(store);
      const commitAll = (store as Partial<BatchCommitStore>).commitAll?.bind(store);
      return {
        ...store,
        load: (workflowId) => interleaved(() => store.load(workflowId)),
        commit: (commit) => interleaved(() => store.commit(commit)),
        ...(commitAll ? { commitAll: (commits: readonly Commit[]) => interleaved(() => commitAll(commits)) } : {}),
        ...(lookup
          ? { lookup: (workflowId: string, options: Parameters<LookupStore['lookup']>[1]) => interleaved(() => lookup(workflowId, options)) }
          : {}),
      };
    });
    await first.openOrder({ input: orderInput('o2') });
    await first.dispatch({ workflowId: 'o2', commandId: 'c1', event: dispute });
    expect(statsOf(first).size).toBe(1);

    // The first runtime prepares the plan on its kept version 2; the second commits version 3 meanwhile.
    interleave = () => second.dispatch({ workflowId: 'o2', commandId: 'c2', event: shipped });
    const result = await first.dispatch({ workflowId: 'o2', commandId: 'c3', event: plan });
    expect(interleave).toBeNull();
    expect(result.version).toBe(4);
    // The kept version 2 was found stale by the commit's version check, and the store read decided.
    expect(statsOf(first).stale).toBe(1);

    const view = await second.getWorkflow(PLATFORM, 'o2');
    expect(view.version).toBe(4);
    const audit = await second.getAuditTrail(PLATFORM, 'o2');
    expect(audit.map((row) => row.eventType)).toEqual(['dispute.opened', 'order.shipped', 'merchant.planSubmitted']);
    // The shipment is in the state the plan was applied to (the retry restored version 3, not the cache).
    const forcedAfter = await first.dispatch({ workflowId: 'o2', commandId: 'c4', event: forced });
    expect(forcedAfter.version).toBe(5);
    expect(statsOf(first).stale).toBe(1);

    // The actor of the refused commit was dropped, not kept: only the retry's (version 4, then 5) is cached.
    expect(statsOf(first)).toMatchObject({ size: 1 });
  });

  it('a command sent again for a kept workflow answers its recorded result, whether or not the kept actor would take it again', async () => {
    const { first, second } = await twoRuntimes();
    await first.openOrder({ input: orderInput('o4') });
    const shippedOnce = await first.dispatch({ workflowId: 'o4', commandId: 'ship', event: shipped });
    const opened = await first.dispatch({ workflowId: 'o4', commandId: 'c1', event: dispute });
    expect(statsOf(first).size).toBe(1);
    // The kept actor refuses a second dispute.opened; a retry of the same command is answered all the same.
    await expect(first.dispatch({ workflowId: 'o4', commandId: 'c1', event: dispute })).resolves.toEqual(opened);
    await expect(first.dispatch({ workflowId: 'o4', commandId: 'ship', event: shipped })).resolves.toEqual(shippedOnce);
    // The same id with another payload is refused, and nothing is written.
    await expect(first.dispatch({ workflowId: 'o4', commandId: 'c1', event: plan })).rejects.toMatchObject({ name: 'DuplicateCommandError' });
    const audit = await second.getAuditTrail(PLATFORM, 'o4');
    expect(audit.map((row) => row.eventType)).toEqual(['order.shipped', 'dispute.opened']);
    expect((await second.getWorkflow(PLATFORM, 'o4')).version).toBe(3);
    // The runtime keeps going from the stored version.
    await expect(first.dispatch({ workflowId: 'o4', commandId: 'c2', event: plan })).resolves.toMatchObject({ version: 4 });
  });

  it('a command for a kept workflow reads nothing before its commit; one for a workflow not kept reads it', async () => {
    const reads: string[] = [];
    const counted = <T>(read: string, work: () => Promise<T>): Promise<T> => {
      reads.push(read);
      return work();
    };
    const { first } = await twoRuntimes((store) => {
      const lookup = (store as Partial<LookupStore>).lookup?.bind(store);
      return {
        ...store,
        load: (workflowId) => counted(`load ${workflowId}`, () => store.load(workflowId)),
        ...(lookup
          ? {
              lookup: (workflowId: string, options: Parameters<LookupStore['lookup']>[1]) =>
                counted(`lookup ${workflowId}`, () => lookup(workflowId, options)),
            }
          : {}),
      };
    });
    await first.openOrder({ input: orderInput('o6') });
    reads.length = 0;
    await first.dispatch({ workflowId: 'o6', commandId: 'c1', event: dispute });
    await first.dispatch({ workflowId: 'o6', commandId: 'c2', event: plan });
    expect(reads).toEqual([]);
    expect(statsOf(first)).toMatchObject({ hits: 2, stale: 0, size: 1 });

    const cold = await twoRuntimes();
    await cold.first.openOrder({ input: orderInput('o7') });
    await expect(cold.second.dispatch({ workflowId: 'o7', commandId: 'c1', event: dispute })).resolves.toMatchObject({ version: 2 });
    expect(statsOf(cold.second)).toMatchObject({ hits: 0, misses: 1 });
  });

  it('a stale expectedVersion is refused for a kept workflow too, and a current one commits', async () => {
    const { first } = await twoRuntimes();
    await first.openOrder({ input: orderInput('o5') });
    await first.dispatch({ workflowId: 'o5', commandId: 'c1', event: dispute });
    await expect(first.dispatch({ workflowId: 'o5', commandId: 'c2', expectedVersion: 1, event: plan })).rejects.toMatchObject({
      name: 'VersionConflictError',
      expectedVersion: 1,
      actualVersion: 2,
    });
    // The refusal left the kept system in place: the next command is a hit, with nothing stale.
    await expect(first.dispatch({ workflowId: 'o5', commandId: 'c3', expectedVersion: 2, event: plan })).resolves.toMatchObject({ version: 3 });
    expect(statsOf(first)).toMatchObject({ stale: 0, size: 1 });
    expect(statsOf(first).hits).toBeGreaterThanOrEqual(2);
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
