import { afterEach, describe, expect, it } from 'vitest';
import { DuplicateCommandError, InvalidPayloadError, NotAllowedInStateError, VersionConflictError, WrongRoleError } from '../../src/errors.js';
import { REFUSAL_MESSAGE_MAX, type Refusal } from '../../src/refusals.js';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { createSqliteStore } from '../../src/runtime/sqlite-store.js';
import type { PolicySettings } from '../../src/schemas/policy.js';
import { createOrderWorkflow, type OrderWorkflow } from '../../src/workflow.js';
import { CUSTOMER, dumpWorkflow, ManualClock, MERCHANT, orderInput, PLATFORM, T0, tempDir } from '../runtime/helpers.js';

/**
 * D9 `refusalLog: 'separate'` (issue 15): refused attempts on a known workflow are kept in a separate,
 * capped log that never touches the audit trail, the version or the sequence (INV4), on both hosts: the
 * in-memory host (src/workflow.ts) and the durable runtime (memory and SQLite stores here;
 * test/store/refusals.test.ts holds the store contract on all three stores).
 */

const SYSTEM = { role: 'system', id: 'order-system' } as const;
const OTHER_CUSTOMER = { role: 'customer', id: 'customer-2' } as const;

/** Attempts every host refuses, in order, after `dispute.opened` was accepted. */
const HOSTILE_TYPE = `evil.${'x'.repeat(5_000)}`;
const REFUSED: Array<{ event: Record<string, unknown>; error: new (...args: never[]) => Error }> = [
  // a wrong role: the customer sends the merchant's plan
  { event: { type: 'merchant.planSubmitted', by: CUSTOMER, plan: 'DIRECT_REFUND' }, error: WrongRoleError },
  // not allowed in this state: no ruling before the evidence plan
  { event: { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' }, error: NotAllowedInStateError },
  // validation, hostile: an unknown, huge type and control characters; the sender parses
  { event: { type: HOSTILE_TYPE, by: CUSTOMER, note: '\u0000\u0007'.repeat(1_000) }, error: InvalidPayloadError },
  // validation: a sender that does not parse, a known type
  { event: { type: 'merchant.planSubmitted', by: { role: 'root', id: 7 }, plan: 'DIRECT_REFUND' }, error: InvalidPayloadError },
];

const OPENED = { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd-1' };

/** The kept fields the hosts must agree on (the message is the host's own error message, cut). */
const shape = (rows: readonly Refusal[]) => rows.map(({ role, actorId, eventType, code, at }) => ({ role, actorId, eventType, code, at }));

const EXPECTED = [
  { role: 'customer', actorId: 'customer-1', eventType: 'merchant.planSubmitted', code: 'WRONG_ROLE', at: T0 },
  { role: 'platform', actorId: 'cs-1', eventType: 'platform.ruled', code: 'NOT_ALLOWED_IN_STATE', at: T0 },
  { role: 'customer', actorId: 'customer-1', eventType: null, code: 'INVALID_PAYLOAD', at: T0 },
  { role: null, actorId: null, eventType: 'merchant.planSubmitted', code: 'INVALID_PAYLOAD', at: T0 },
];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function inMemory(policy: Partial<PolicySettings>, refusalLogCap?: number): OrderWorkflow {
  const workflow = createOrderWorkflow(orderInput('order-1', { policy }), {
    clock: new ManualClock(),
    ...(refusalLogCap === undefined ? {} : { refusalLogCap }),
  });
  cleanups.push(() => workflow.stop());
  return workflow;
}

async function durable(policy: Partial<PolicySettings>, store?: WorkflowStore, onError: (error: unknown) => void = () => {}) {
  let used = store;
  if (!used) {
    const { dir, cleanup } = tempDir('refusals-');
    cleanups.push(cleanup);
    used = createSqliteStore({ filename: `${dir}/store.db` });
  }
  await used.migrate();
  const runtime = createWorkflowRuntime({
    store: used,
    clock: new ManualClock(),
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    workerId: 'refusals-test',
    onError,
  });
  cleanups.push(() => runtime.close());
  await runtime.openOrder({ input: orderInput('order-1', { policy }) } as never);
  return { runtime, store: used };
}

let commands = 0;
const dispatch = (runtime: WorkflowRuntime, event: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  runtime.dispatchRaw({ workflowId: 'order-1', commandId: `cmd-${++commands}`, event, ...extra });

/** Everything the in-memory host keeps about its workflow, apart from the refusal log. */
const memoryState = (workflow: OrderWorkflow) =>
  JSON.stringify({
    audit: workflow.audit,
    version: workflow.version,
    deadlines: workflow.pendingDeadlines(),
    effects: workflow.effects,
    persisted: workflow.persist(),
  });

describe('D9 refusalLog separate: refused attempts kept apart (both hosts)', () => {
  it('D9/INV4: the in-memory host keeps each refused attempt, and nothing else changes', () => {
    const workflow = inMemory({ refusalLog: 'separate' });
    workflow.sendRaw(OPENED);
    for (const { event, error } of REFUSED) {
      const before = memoryState(workflow);
      expect(() => workflow.sendRaw(event)).toThrow(error);
      expect(memoryState(workflow)).toBe(before);
    }
    const rows = workflow.getRefusals(PLATFORM);
    expect(shape(rows)).toEqual(EXPECTED);
    expect(workflow.audit.map((row) => row.eventType)).toEqual(['dispute.opened']);
    expect(workflow.version).toBe(2);
  });

  it('D9/INV4: the durable runtime keeps each refused attempt; audit, version, seq, snapshot, deadlines and outbox stay byte-identical', async () => {
    const { runtime, store } = await durable({ refusalLog: 'separate' });
    await dispatch(runtime, OPENED);
    for (const { event, error } of REFUSED) {
      const before = JSON.stringify(await dumpWorkflow(store, 'order-1'));
      await expect(dispatch(runtime, event)).rejects.toThrow(error);
      expect(JSON.stringify(await dumpWorkflow(store, 'order-1'))).toBe(before);
    }
    const record = await store.load('order-1');
    expect(record).toMatchObject({ version: 2, auditSeq: 1 });
    expect(shape(await runtime.getRefusals(PLATFORM, 'order-1'))).toEqual(EXPECTED);
  });

  it('D9: both hosts keep the same refusals, field for field', async () => {
    const workflow = inMemory({ refusalLog: 'separate' });
    const { runtime } = await durable({ refusalLog: 'separate' }, createMemoryStore());
    workflow.sendRaw(OPENED);
    await dispatch(runtime, OPENED);
    for (const { event } of REFUSED) {
      expect(() => workflow.sendRaw(event)).toThrow();
      await expect(dispatch(runtime, event)).rejects.toThrow();
    }
    expect(await runtime.getRefusals(PLATFORM, 'order-1')).toEqual(workflow.getRefusals(PLATFORM));
  });

  it('D9: refused input is kept sanitised and cut, never the payload', async () => {
    const workflow = inMemory({ refusalLog: 'separate' });
    expect(() => workflow.sendRaw(REFUSED[2]!.event)).toThrow(InvalidPayloadError);
    const [row] = workflow.getRefusals(PLATFORM);
    expect(Object.keys(row!).sort()).toEqual(['actorId', 'at', 'code', 'eventType', 'message', 'role']);
    expect(row!.message.length).toBeLessThanOrEqual(REFUSAL_MESSAGE_MAX);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting they are gone
    expect(row!.message).not.toMatch(/[\u0000-\u001f]/);
    expect(JSON.stringify(row)).not.toContain('x'.repeat(REFUSAL_MESSAGE_MAX));
  });

  it('D9: the durable runtime also keeps a duplicate command id with another payload and a stale expected version', async () => {
    const { runtime } = await durable({ refusalLog: 'separate' }, createMemoryStore());
    await runtime.dispatchRaw({ workflowId: 'order-1', commandId: 'open-d', event: OPENED });
    await expect(runtime.dispatchRaw({ workflowId: 'order-1', commandId: 'open-d', event: { ...OPENED, disputeId: 'd-2' } })).rejects.toThrow(
      DuplicateCommandError,
    );
    await expect(
      dispatch(runtime, { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' }, { expectedVersion: 1 }),
    ).rejects.toThrow(VersionConflictError);
    expect(shape(await runtime.getRefusals(PLATFORM, 'order-1'))).toEqual([
      { role: 'customer', actorId: 'customer-1', eventType: 'dispute.opened', code: 'DUPLICATE_COMMAND', at: T0 },
      { role: 'merchant', actorId: 'merchant-1', eventType: 'merchant.planSubmitted', code: 'VERSION_CONFLICT', at: T0 },
    ]);
  });

  it('D9 none (the default): no refusal is kept on either host', async () => {
    const workflow = inMemory({});
    const { runtime } = await durable({}, createMemoryStore());
    for (const { event } of REFUSED) {
      expect(() => workflow.sendRaw(event)).toThrow();
      await expect(dispatch(runtime, event)).rejects.toThrow();
    }
    expect(workflow.getRefusals(PLATFORM)).toEqual([]);
    expect(await runtime.getRefusals(PLATFORM, 'order-1')).toEqual([]);
  });

  it('D9: the log is capped per workflow, the newest kept (a host and a store option)', async () => {
    const workflow = inMemory({ refusalLog: 'separate' }, 2);
    const { runtime } = await durable({ refusalLog: 'separate' }, createMemoryStore({ refusalLogCap: 2 }));
    workflow.sendRaw(OPENED);
    await dispatch(runtime, OPENED);
    for (const { event } of REFUSED.slice(0, 3)) {
      expect(() => workflow.sendRaw(event)).toThrow();
      await expect(dispatch(runtime, event)).rejects.toThrow();
    }
    expect(shape(workflow.getRefusals(PLATFORM))).toEqual(EXPECTED.slice(1, 3));
    expect(shape(await runtime.getRefusals(PLATFORM, 'order-1'))).toEqual(EXPECTED.slice(1, 3));
  });

  it('D9: a refusal log that cannot be written leaves the refusal as it was (reported through onError)', async () => {
    const base = createMemoryStore();
    const broken = { ...base, recordRefusal: async () => Promise.reject(new Error('disk full')) };
    const errors: unknown[] = [];
    const { runtime, store } = await durable({ refusalLog: 'separate' }, broken, (error) => errors.push(error));
    const before = JSON.stringify(await dumpWorkflow(store, 'order-1'));
    await expect(dispatch(runtime, REFUSED[0]!.event)).rejects.toThrow(WrongRoleError);
    expect(errors).toEqual([new Error('disk full')]);
    expect(JSON.stringify(await dumpWorkflow(store, 'order-1'))).toBe(before);
  });
});

describe('R1 for the refusal log (D9)', () => {
  const readers = async () => {
    const workflow = inMemory({ refusalLog: 'separate' });
    const { runtime } = await durable({ refusalLog: 'separate' }, createMemoryStore());
    workflow.sendRaw(OPENED);
    await dispatch(runtime, OPENED);
    for (const { event } of REFUSED) {
      expect(() => workflow.sendRaw(event)).toThrow();
      await expect(dispatch(runtime, event)).rejects.toThrow();
    }
    return [
      (caller: unknown) => workflow.getRefusals(caller as never),
      (caller: unknown) => runtime.getRefusals(caller as never, 'order-1'),
    ] as const;
  };

  it('R1: the platform sees every refused attempt; system too, without platform staff ids', async () => {
    for (const read of await readers()) {
      expect(shape(await read(PLATFORM))).toEqual(EXPECTED);
      expect(shape(await read(SYSTEM))).toEqual(EXPECTED.map((row) => (row.role === 'platform' ? { ...row, actorId: null } : row)));
    }
  });

  it("R1: the order's customer and merchant see only the attempts made in their own name", async () => {
    for (const read of await readers()) {
      expect(shape(await read(CUSTOMER))).toEqual([EXPECTED[0], EXPECTED[2]]);
      expect(await read(MERCHANT)).toEqual([]);
    }
  });

  it('R1: another customer, another merchant and nobody are refused', async () => {
    for (const read of await readers()) {
      await expect(async () => read(OTHER_CUSTOMER)).rejects.toThrow(WrongRoleError);
      await expect(async () => read({ role: 'merchant', id: 'merchant-9' })).rejects.toThrow(WrongRoleError);
      await expect(async () => read(undefined)).rejects.toThrow(WrongRoleError);
    }
  });
});
