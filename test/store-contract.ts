/**
 * The behaviour every WorkflowStore must have. Each store's runner calls `describeStoreContract`;
 * every test gets a fresh, migrated store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateCommandError, InvalidPayloadError, InvalidQueryError, VersionConflictError } from '../src/errors.js';
import { sanitizeText } from '../src/schemas/text.js';
import type {
  AuditRow,
  BatchEffectStore,
  CancelOrderQuery,
  CancelOrderRow,
  Claim,
  CommandRow,
  CommandScope,
  Commit,
  DeadlineRow,
  DisputeQuery,
  DisputeRow,
  OutboxRow,
  Page,
  WorkflowRecord,
  WorkflowStore,
} from '../src/runtime/store.js';

// ---------------------------------------------------------------------------------------------
// Row builders
// ---------------------------------------------------------------------------------------------

export const T0 = 1_700_000_000_000;
export const LEASE_MS = 30_000;

export function makeWorkflow(workflowId: string, version: number, overrides: Partial<WorkflowRecord> = {}): WorkflowRecord {
  return {
    workflowId,
    orderId: `order-${workflowId}`,
    merchantId: 'merchant-1',
    version,
    machineVersion: 1,
    auditSeq: version,
    snapshot: { status: 'active', value: { order: 'awaitingShipment' }, context: { version, note: '取消订单 "quoted"' } },
    status: 'active',
    lastEventAt: T0 + version,
    createdAt: T0,
    updatedAt: T0 + version,
    ...overrides,
  };
}

export function makeAudit(workflowId: string, seq: number, overrides: Partial<AuditRow> = {}): AuditRow {
  return {
    workflowId,
    seq,
    at: T0 + seq,
    role: 'customer',
    actorId: 'customer-1',
    eventType: 'CANCEL_REQUESTED',
    event: { type: 'CANCEL_REQUESTED', reason: 'changedMind', items: [1, 2] },
    resultingState: { order: 'cancelling', children: { 'cancel-1': 'requested' } },
    commandId: null,
    ...overrides,
  };
}

export function makeDeadline(workflowId: string, dueAt: number, timer = 'interceptWindow'): DeadlineRow {
  const eventType = `xstate.after.${timer}.order.cancelling`;
  return { deadlineId: `${workflowId}||${eventType}|${dueAt}`, workflowId, actorPath: '', timer, eventType, dueAt };
}

export function makeEffect(workflowId: string, idempotencyKey: string, overrides: Partial<OutboxRow> = {}): OutboxRow {
  return {
    effectId: `${workflowId}|refund|${idempotencyKey}|1`,
    workflowId,
    kind: 'refund',
    idempotencyKey,
    payload: { type: 'REFUND_REQUESTED', amountFen: 1999, key: idempotencyKey },
    status: 'pending',
    attempts: 0,
    availableAt: T0,
    lastError: null,
    createdAt: T0,
    ...overrides,
  };
}

export function makeCancelOrder(cancellationId: string, workflowId: string, overrides: Partial<CancelOrderRow> = {}): CancelOrderRow {
  return {
    cancellationId,
    workflowId,
    orderId: `order-${workflowId}`,
    merchantId: 'merchant-1',
    customerId: 'customer-1',
    status: 'pending',
    reason: 'changedMind',
    refundReason: null,
    origin: 'customer',
    refundTriggerKind: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function makeDispute(disputeId: string, workflowId: string, overrides: Partial<DisputeRow> = {}): DisputeRow {
  return {
    disputeId,
    workflowId,
    orderId: `order-${workflowId}`,
    merchantId: 'merchant-1',
    customerId: 'customer-1',
    status: 'awaitingMerchantChoice',
    plan: null,
    waitingOn: 'merchant',
    nextDueAt: T0 + 48 * 3_600_000,
    nextTimer: 'merchantResponseWindow',
    openedAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function makeCommand(commandId: string, workflowId: string, scope: CommandScope = 'client'): CommandRow {
  return { commandId, workflowId, scope, payloadHash: `sha256:${scope}:${commandId}`, result: { ok: true, version: 2 }, at: T0 };
}

/**
 * The commit producing `version` of the workflow, with one audit row (seq = version) and nothing else.
 * Its auditSeq follows the audit rows given (the highest seq; version - 1 for none), as if every earlier
 * commit wrote one row.
 */
export function makeCommit(workflowId: string, version: number, overrides: Partial<Commit> = {}): Commit {
  const audit = overrides.audit ?? [makeAudit(workflowId, version)];
  const auditSeq = audit.length === 0 ? version - 1 : Math.max(...audit.map((row) => row.seq));
  return {
    workflow: makeWorkflow(workflowId, version, { auditSeq }),
    expectedVersion: version === 1 ? null : version - 1,
    audit,
    deadlines: [],
    outbox: [],
    cancelOrders: [],
    command: null,
    completesEffectId: null,
    observedAt: T0 + version,
    ...overrides,
  };
}

export const claimAt = (workerId: string, now: number, limit = 10, leaseMs = LEASE_MS): Claim => ({
  workerId,
  now,
  leaseMs,
  limit,
});

/** Everything a commit on `workflowId` could have written (commands are checked by id). */
export async function storedState(store: WorkflowStore, workflowId: string) {
  return {
    workflow: await store.load(workflowId),
    audit: await store.listAudit(workflowId),
    deadlines: await store.listDeadlines(workflowId),
    outbox: await store.listOutbox(workflowId),
    cancelOrders: (await store.queryCancelOrders({ limit: 500 })).items,
  };
}

export const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );

/**
 * The hostile string list: every store must keep the storable ones exactly and refuse the others the
 * same way (the string rule: no NUL, no unpaired surrogate; ids at most 512 UTF-8 bytes).
 */
export const HOSTILE_STRINGS: ReadonlyArray<readonly [name: string, value: string]> = [
  ['NUL', 'a\u0000b'],
  ['NUL alone', '\u0000'],
  ['lone high surrogate', 'x\uD800y'],
  ['lone low surrogate', '\uDC00'],
  ['reversed pair', '\uDE00\uD83D'],
  ['high surrogate at the end', 'end\uD83D'],
  ['10k chars', 'x'.repeat(10_000)],
  ['10k CJK chars', '退'.repeat(10_000)],
  ['RTL override', '\u202Egnp.exe\u202C'],
  ['RTL mark', 'abc\u200Fdef'],
  ['SQL quote', "o'brien'); DROP TABLE workflows; --"],
  ['double quote and backslash', '"\\'],
  ['array literal', '{"a",NULL}'],
  ['LIKE wildcards', '%_'],
  ['emoji', '😀👨‍👩‍👧'],
  ['U+FFFF and U+E000', '\uFFFF\uE000'],
  ['constructor', 'constructor'],
  ['__proto__', '__proto__'],
  ['toString', 'toString'],
  ['empty', ''],
  ['control characters', '\u0001\u001f\n\t\r'],
  ['an escape sequence as text', '\\u0000'],
  ['line and paragraph separators', '\u2028\u2029'],
];

const isWellFormed = (value: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
export const isStorable = (value: string): boolean => !value.includes('\u0000') && isWellFormed(value);
export const isStorableId = (value: string): boolean => isStorable(value) && Buffer.byteLength(value) <= 512;

const effectIds = (rows: OutboxRow[]) => rows.map((row) => row.effectId);
const cancellationIds = (page: { items: CancelOrderRow[] }) => page.items.map((row) => row.cancellationId);
const disputeIds = (page: { items: DisputeRow[] }) => page.items.map((row) => row.disputeId);
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

export type DefineTest = (name: string, body: (store: WorkflowStore) => Promise<void>) => void;

/** Number of tests `define` registers, known before any runs (for the "skipping N tests" warning). */
export function countTests(define: (test: DefineTest) => void): number {
  let count = 0;
  define(() => {
    count += 1;
  });
  return count;
}

function contract(test: DefineTest): void {
  test('migrate() can run again on a migrated store, and load() of an unknown workflow is undefined', async (store) => {
    await store.migrate();
    await store.migrate();
    expect(await store.load('wf-unknown')).toBeUndefined();
    const commit = makeCommit('wf-1', 1);
    await store.commit(commit);
    await store.migrate();
    expect(await store.load('wf-1')).toEqual(commit.workflow);
  });

  test('a create commit (expectedVersion null) stores the workflow and every row it carries', async (store) => {
    const deadline = makeDeadline('wf-1', T0 + 1000);
    const effect = makeEffect('wf-1', 'refund-1');
    const cancelOrder = makeCancelOrder('cancel-1', 'wf-1', { refundTriggerKind: 'interceptionSucceeded' });
    const command = makeCommand('cmd-1', 'wf-1');
    const audit = makeAudit('wf-1', 1, { commandId: 'cmd-1' });
    const commit = makeCommit('wf-1', 1, { audit: [audit], deadlines: [deadline], outbox: [effect], cancelOrders: [cancelOrder], command });

    await store.commit(commit);

    expect(await storedState(store, 'wf-1')).toEqual({
      workflow: commit.workflow,
      audit: [audit],
      deadlines: [deadline],
      outbox: [effect],
      cancelOrders: [cancelOrder],
    });
    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toEqual(command);
  });

  test('stored state is a copy: mutating committed or loaded objects changes nothing', async (store) => {
    const commit = makeCommit('wf-1', 1, { outbox: [makeEffect('wf-1', 'refund-1')] });
    const expected = structuredClone(commit);
    await store.commit(commit);
    (commit.workflow.snapshot as { status: string }).status = 'mutated';
    (commit.outbox[0]?.payload as { amountFen: number }).amountFen = 0;
    const loaded = await store.load('wf-1');
    (loaded?.snapshot as { status: string }).status = 'mutated too';

    expect(await store.load('wf-1')).toEqual(expected.workflow);
    expect(await store.listOutbox('wf-1')).toEqual(expected.outbox);
  });

  test('creating a workflow that exists throws VersionConflictError and writes nothing (INV4)', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { deadlines: [makeDeadline('wf-1', T0 + 1000)], outbox: [makeEffect('wf-1', 'refund-1')] }));
    const before = await storedState(store, 'wf-1');

    const error = await rejection(
      store.commit(
        makeCommit('wf-1', 1, {
          workflow: makeWorkflow('wf-1', 1, { snapshot: { status: 'other' }, auditSeq: 1 }),
          audit: [makeAudit('wf-1', 1, { eventType: 'OTHER' })],
          deadlines: [makeDeadline('wf-1', T0 + 9000)],
          outbox: [makeEffect('wf-1', 'refund-2')],
          cancelOrders: [makeCancelOrder('cancel-1', 'wf-1')],
          command: makeCommand('cmd-1', 'wf-1'),
        }),
      ),
    );

    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ workflowId: 'wf-1', expectedVersion: null, actualVersion: 1 });
    expect(await storedState(store, 'wf-1')).toEqual(before);
    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toBeUndefined();
  });

  test('a commit with the current expectedVersion replaces the workflow record', async (store) => {
    await store.commit(makeCommit('wf-1', 1));
    const update = makeCommit('wf-1', 2, {
      workflow: makeWorkflow('wf-1', 2, { status: 'done', snapshot: { status: 'done', value: 'closed' } }),
    });

    await store.commit(update);

    expect(await store.load('wf-1')).toEqual(update.workflow);
    expect((await store.listAudit('wf-1')).map((row) => row.seq)).toEqual([1, 2]);
  });

  test('a stale expectedVersion throws VersionConflictError and writes none of audit, deadlines, outbox, cancel orders, command or effect completion (INV4)', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1');
    await store.commit(makeCommit('wf-1', 1, { deadlines: [makeDeadline('wf-1', T0 + 1000)], outbox: [effect] }));
    await store.commit(makeCommit('wf-1', 2, { deadlines: [makeDeadline('wf-1', T0 + 1000)] }));
    const before = await storedState(store, 'wf-1');

    const stale = makeCommit('wf-1', 2, {
      audit: [makeAudit('wf-1', 3)],
      deadlines: [makeDeadline('wf-1', T0 + 7000)],
      outbox: [makeEffect('wf-1', 'refund-2')],
      cancelOrders: [makeCancelOrder('cancel-1', 'wf-1')],
      command: makeCommand('cmd-1', 'wf-1'),
      completesEffectId: effect.effectId,
    });
    const error = await rejection(store.commit(stale));

    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ workflowId: 'wf-1', expectedVersion: 1, actualVersion: 2 });
    expect(await storedState(store, 'wf-1')).toEqual(before);
    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toBeUndefined();
  });

  test('a commit based on a version of an unknown workflow throws VersionConflictError and creates nothing', async (store) => {
    const error = await rejection(store.commit(makeCommit('wf-1', 4)));

    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ workflowId: 'wf-1', expectedVersion: 3, actualVersion: null });
    expect(await store.load('wf-1')).toBeUndefined();
    expect(await store.listAudit('wf-1')).toEqual([]);
  });

  test('deadlines are replaced as a full set per workflow; other workflows keep theirs', async (store) => {
    const [d1, d2, d3] = [1000, 2000, 3000].map((offset) => makeDeadline('wf-1', T0 + offset)) as [DeadlineRow, DeadlineRow, DeadlineRow];
    const other = makeDeadline('wf-2', T0 + 1500);
    await store.commit(makeCommit('wf-1', 1, { deadlines: [d1, d2] }));
    await store.commit(makeCommit('wf-2', 1, { deadlines: [other] }));

    await store.commit(makeCommit('wf-1', 2, { deadlines: [d3, d2] }));
    expect(await store.listDeadlines('wf-1')).toEqual([d2, d3]);
    expect(await store.listDeadlines('wf-2')).toEqual([other]);

    await store.commit(makeCommit('wf-1', 3, { deadlines: [] }));
    expect(await store.listDeadlines('wf-1')).toEqual([]);
    expect(await store.listDeadlines('wf-2')).toEqual([other]);
  });

  test('an outbox insert is idempotent on effectId: the stored row keeps its payload, status and attempts', async (store) => {
    const retried = makeEffect('wf-1', 'refund-1');
    const completed = makeEffect('wf-1', 'notify-1', { kind: 'notification', createdAt: T0 + 1 });
    await store.commit(makeCommit('wf-1', 1, { outbox: [retried, completed] }));
    await store.recordEffectFailure(retried.effectId, { error: 'gateway timeout', availableAt: T0 + 60_000, dead: false });
    await store.completeEffect(completed.effectId);
    const fresh = makeEffect('wf-1', 'refund-2', { createdAt: T0 + 2 });

    await store.commit(
      makeCommit('wf-1', 2, {
        outbox: [{ ...retried, payload: { replaced: true } }, { ...completed, status: 'pending' }, fresh],
      }),
    );

    expect(await store.listOutbox('wf-1')).toEqual([
      { ...retried, attempts: 1, lastError: 'gateway timeout', availableAt: T0 + 60_000 },
      { ...completed, status: 'done' },
      fresh,
    ]);
  });

  test('completesEffectId marks that effect done in the same commit', async (store) => {
    const refund = makeEffect('wf-1', 'refund-1');
    const other = makeEffect('wf-1', 'refund-2', { createdAt: T0 + 1 });
    await store.commit(makeCommit('wf-1', 1, { outbox: [refund, other] }));

    await store.commit(makeCommit('wf-1', 2, { completesEffectId: refund.effectId }));

    expect(await store.listOutbox('wf-1')).toEqual([{ ...refund, status: 'done' }, other]);
    expect(effectIds(await store.claimOutbox(claimAt('worker-a', T0)))).toEqual([other.effectId]);
  });

  test('claimDueDeadlines returns only deadlines due at or before now, oldest first, up to the limit', async (store) => {
    const late = makeDeadline('wf-1', T0 + 3000);
    const first = makeDeadline('wf-1', T0 + 1000);
    const notDue = makeDeadline('wf-1', T0 + 3001);
    const second = makeDeadline('wf-2', T0 + 2000);
    await store.commit(makeCommit('wf-1', 1, { deadlines: [late, first, notDue] }));
    await store.commit(makeCommit('wf-2', 1, { deadlines: [second] }));

    expect(await store.claimDueDeadlines(claimAt('worker-a', T0 + 3000, 2))).toEqual([first, second]);
    expect(await store.claimDueDeadlines(claimAt('worker-b', T0 + 3000, 2))).toEqual([late]);
    expect(await store.claimDueDeadlines(claimAt('worker-c', T0 + 999))).toEqual([]);
  });

  test('a claimed deadline is withheld from other workers while the lease lives (expiry < now frees it)', async (store) => {
    const deadline = makeDeadline('wf-1', T0);
    await store.commit(makeCommit('wf-1', 1, { deadlines: [deadline] }));

    expect(await store.claimDueDeadlines(claimAt('worker-a', T0, 10, 1000))).toEqual([deadline]);
    expect(await store.claimDueDeadlines(claimAt('worker-b', T0 + 1000, 10, 1000))).toEqual([]);
    expect(await store.claimDueDeadlines(claimAt('worker-b', T0 + 1001, 10, 1000))).toEqual([deadline]);
    expect(await store.claimDueDeadlines(claimAt('worker-a', T0 + 1500, 10, 1000))).toEqual([]);
  });

  test('a live lease is exclusive, also to its holder: polling again never returns in-flight deadlines', async (store) => {
    const deadline = makeDeadline('wf-1', T0);
    await store.commit(makeCommit('wf-1', 1, { deadlines: [deadline] }));
    await store.claimDueDeadlines(claimAt('worker-a', T0, 10, 1000));

    expect(await store.claimDueDeadlines(claimAt('worker-a', T0 + 500, 10, 1000))).toEqual([]);
    expect(await store.claimDueDeadlines(claimAt('worker-a', T0 + 1001, 10, 1000))).toEqual([deadline]);
  });

  test('a deadline deleted by a later commit is never claimed, even after the lease expired', async (store) => {
    const fired = makeDeadline('wf-1', T0);
    const cancelled = makeDeadline('wf-1', T0 + 10);
    await store.commit(makeCommit('wf-1', 1, { deadlines: [fired, cancelled] }));
    expect(await store.claimDueDeadlines(claimAt('worker-a', T0 + 10, 1))).toEqual([fired]);

    await store.commit(makeCommit('wf-1', 2, { deadlines: [] }));

    expect(await store.claimDueDeadlines(claimAt('worker-b', T0 + 10 * LEASE_MS))).toEqual([]);
  });

  test('a deadline kept by a later commit keeps its lease', async (store) => {
    const kept = makeDeadline('wf-1', T0);
    const added = makeDeadline('wf-1', T0 + 5);
    await store.commit(makeCommit('wf-1', 1, { deadlines: [kept] }));
    await store.claimDueDeadlines(claimAt('worker-a', T0));

    await store.commit(makeCommit('wf-1', 2, { deadlines: [kept, added] }));

    expect(await store.claimDueDeadlines(claimAt('worker-b', T0 + 10))).toEqual([added]);
  });

  test('claimOutbox returns only pending effects available at or before now, oldest first, up to the limit', async (store) => {
    const later = makeEffect('wf-1', 'refund-1', { availableAt: T0 + 2000 });
    const earlier = makeEffect('wf-1', 'refund-2', { availableAt: T0 + 1000, createdAt: T0 + 1 });
    const notYet = makeEffect('wf-1', 'refund-3', { availableAt: T0 + 9000 });
    const done = makeEffect('wf-1', 'notify-1', { kind: 'notification' });
    const dead = makeEffect('wf-1', 'interception-1', { kind: 'interception' });
    await store.commit(makeCommit('wf-1', 1, { outbox: [later, earlier, notYet, done, dead] }));
    await store.completeEffect(done.effectId);
    await store.recordEffectFailure(dead.effectId, { error: 'rejected', availableAt: T0, dead: true });

    expect(await store.claimOutbox(claimAt('worker-a', T0 + 5000, 1))).toEqual([earlier]);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 5000))).toEqual([later]);
  });

  test('a claimed effect is withheld from other workers while the lease lives (expiry < now frees it)', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1');
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));

    expect(await store.claimOutbox(claimAt('worker-a', T0, 10, 1000))).toEqual([effect]);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 1000, 10, 1000))).toEqual([]);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 1001, 10, 1000))).toEqual([effect]);
    expect(await store.claimOutbox(claimAt('worker-a', T0 + 1500, 10, 1000))).toEqual([]);
  });

  test('extendEffectLease keeps a claimed effect with its worker while the delivery runs, and only its worker', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1');
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));
    await store.claimOutbox(claimAt('worker-a', T0, 10, 1000));

    expect(await store.extendEffectLease(effect.effectId, 'worker-b', T0 + 5000)).toBe(false);
    expect(await store.extendEffectLease(effect.effectId, 'worker-a', T0 + 5000)).toBe(true);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 4000, 10, 1000))).toEqual([]);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 5001, 10, 1000))).toEqual([effect]);
    // The lease went to worker-b: worker-a's heartbeat no longer holds it.
    expect(await store.extendEffectLease(effect.effectId, 'worker-a', T0 + 9000)).toBe(false);
    await store.completeEffect(effect.effectId);
    expect(await store.extendEffectLease(effect.effectId, 'worker-b', T0 + 9000)).toBe(false);
    expect(await store.extendEffectLease('no such effect', 'worker-b', T0 + 9000)).toBe(false);
  });

  test('recordEffectFailure counts the attempt, keeps the error, delays the retry and ends the lease', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1');
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));
    await store.claimOutbox(claimAt('worker-a', T0, 10, 120_000));

    await store.recordEffectFailure(effect.effectId, { error: 'gateway timeout', availableAt: T0 + 60_000, dead: false });

    const retry = { ...effect, attempts: 1, lastError: 'gateway timeout', availableAt: T0 + 60_000 };
    expect(await store.listOutbox('wf-1')).toEqual([retry]);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 59_999))).toEqual([]);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 60_000))).toEqual([retry]);

    await store.recordEffectFailure(effect.effectId, { error: 'HTTP 502', availableAt: T0 + 180_000, dead: false });
    expect(await store.listOutbox('wf-1')).toEqual([{ ...retry, attempts: 2, lastError: 'HTTP 502', availableAt: T0 + 180_000 }]);
  });

  test('INV1 leases: recordEffectFailure with a workerId counts only while that worker holds the claim; a worker whose lease was taken over changes nothing', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1');
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));
    await store.claimOutbox(claimAt('worker-a', T0, 10, 1000));
    // worker-a's lease ran out (a long pause, a clock jump): worker-b takes the row over.
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 1001, 10, 30_000))).toEqual([effect]);

    // worker-a's late failure (dead or not) is dropped: worker-b's claim stands, nobody else can claim.
    await store.recordEffectFailure(effect.effectId, { error: 'timeout', availableAt: T0 + 2000, dead: false, workerId: 'worker-a' });
    await store.recordEffectFailure(effect.effectId, { error: 'gave up', availableAt: T0 + 2000, dead: true, workerId: 'worker-a' });
    expect(await store.listOutbox('wf-1')).toEqual([effect]);
    expect(await store.claimOutbox(claimAt('worker-c', T0 + 5000))).toEqual([]);
    expect(await store.extendEffectLease(effect.effectId, 'worker-b', T0 + 40_000)).toBe(true);

    // worker-b's own failure counts and ends its lease.
    await store.recordEffectFailure(effect.effectId, { error: 'HTTP 502', availableAt: T0 + 6000, dead: false, workerId: 'worker-b' });
    const retry = { ...effect, attempts: 1, lastError: 'HTTP 502', availableAt: T0 + 6000 };
    expect(await store.listOutbox('wf-1')).toEqual([retry]);
    // A row nobody claims now: a failure from a worker is dropped too (its claim was released).
    await store.recordEffectFailure(effect.effectId, { error: 'late', availableAt: T0 + 7000, dead: false, workerId: 'worker-b' });
    expect(await store.listOutbox('wf-1')).toEqual([retry]);
    expect(await store.claimOutbox(claimAt('worker-c', T0 + 6000))).toEqual([retry]);
  });

  test('recordEffectFailure refuses a workerId no store could hold, and writes nothing', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1');
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));
    await store.claimOutbox(claimAt('worker-a', T0, 10, 1000));
    for (const workerId of ['x'.repeat(600), 'a\u0000b', 42 as unknown as string]) {
      await expect(store.recordEffectFailure(effect.effectId, { error: 'e', availableAt: T0, dead: true, workerId })).rejects.toThrow(TypeError);
    }
    expect(await store.listOutbox('wf-1')).toEqual([effect]);
  });

  test('recordEffectFailure with dead: true marks the effect dead and it is never claimed again', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1', { attempts: 0 });
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));

    await store.recordEffectFailure(effect.effectId, { error: 'account closed', availableAt: T0 + 1, dead: true });

    expect(await store.listOutbox('wf-1')).toEqual([
      { ...effect, status: 'dead', attempts: 1, lastError: 'account closed', availableAt: T0 + 1 },
    ]);
    expect(await store.claimOutbox(claimAt('worker-a', T0 + 10 * LEASE_MS))).toEqual([]);
  });

  test('completeEffect marks the effect done and it is never claimed again', async (store) => {
    const effect = makeEffect('wf-1', 'notify-1', { kind: 'notification' });
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));
    await store.claimOutbox(claimAt('worker-a', T0));

    await store.completeEffect(effect.effectId);

    expect(await store.listOutbox('wf-1')).toEqual([{ ...effect, status: 'done' }]);
    expect(await store.claimOutbox(claimAt('worker-b', T0 + 10 * LEASE_MS))).toEqual([]);
  });

  test('completeEffects (where the store has it) marks each effect done as completeEffect does, unknown ids changing nothing', async (store) => {
    const batch = (store as Partial<BatchEffectStore>).completeEffects;
    if (typeof batch !== 'function') return;
    const first = makeEffect('wf-1', 'notify-1', { kind: 'notification' });
    const second = makeEffect('wf-2', 'notify-2', { kind: 'notification' });
    const untouched = makeEffect('wf-2', 'notify-3', { kind: 'notification' });
    await store.commit(makeCommit('wf-1', 1, { outbox: [first] }));
    await store.commit(makeCommit('wf-2', 1, { outbox: [second, untouched] }));
    await store.claimOutbox(claimAt('worker-a', T0));

    await batch.call(store, [first.effectId, second.effectId, 'no-such-effect']);
    await batch.call(store, []);

    expect(await store.listOutbox('wf-1')).toEqual([{ ...first, status: 'done' }]);
    expect(await store.listOutbox('wf-2')).toEqual([{ ...second, status: 'done' }, untouched]);
    const claimable = await store.claimOutbox(claimAt('worker-b', T0 + 10 * LEASE_MS));
    expect(claimable.map((row) => row.effectId)).toEqual([untouched.effectId]);
  });

  test('a failure reported for a done effect, or for an unknown effect, changes nothing', async (store) => {
    const effect = makeEffect('wf-1', 'refund-1');
    await store.commit(makeCommit('wf-1', 1, { outbox: [effect] }));
    await store.completeEffect(effect.effectId);

    await store.recordEffectFailure(effect.effectId, { error: 'late failure', availableAt: T0 + 1, dead: false });
    await store.recordEffectFailure('no-such-effect', { error: 'x', availableAt: T0, dead: true });
    await store.completeEffect('no-such-effect');

    expect(await store.listOutbox('wf-1')).toEqual([{ ...effect, status: 'done' }]);
  });

  test('getCommand returns the row stored under (workflowId, scope, commandId), undefined for any other key', async (store) => {
    const command = makeCommand('cmd-1', 'wf-1');
    await store.commit(makeCommit('wf-1', 1, { command }));
    await store.commit(makeCommit('wf-2', 1));

    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toEqual(command);
    expect(await store.getCommand('wf-1', 'client', 'cmd-2')).toBeUndefined();
    expect(await store.getCommand('wf-1', 'runtime', 'cmd-1')).toBeUndefined();
    expect(await store.getCommand('wf-2', 'client', 'cmd-1')).toBeUndefined();
    expect(await store.getCommand('wf-unknown', 'client', 'cmd-1')).toBeUndefined();
  });

  test('INV4: a commit reusing (workflowId, scope, commandId) throws DuplicateCommandError and writes nothing', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { command: makeCommand('cmd-1', 'wf-1') }));
    const before = await storedState(store, 'wf-1');

    const error = await rejection(
      store.commit(makeCommit('wf-1', 2, { command: makeCommand('cmd-1', 'wf-1'), deadlines: [makeDeadline('wf-1', T0)] })),
    );

    expect(error).toBeInstanceOf(DuplicateCommandError);
    expect(error).toMatchObject({ code: 'DUPLICATE_COMMAND', commandId: 'cmd-1' });
    expect(await storedState(store, 'wf-1')).toEqual(before);
    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toEqual(makeCommand('cmd-1', 'wf-1'));
  });

  test('command ids are unique per workflow: the same id in another workflow is a command of its own', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { command: makeCommand('cmd-1', 'wf-1') }));
    const other = { ...makeCommand('cmd-1', 'wf-2'), payloadHash: 'sha256:other', result: { other: true } };

    await store.commit(makeCommit('wf-2', 1, { command: other }));

    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toEqual(makeCommand('cmd-1', 'wf-1'));
    expect(await store.getCommand('wf-2', 'client', 'cmd-1')).toEqual(other);
  });

  test('INV6: a client command id equal to the id of a runtime record never collides with it: each scope keeps its own row', async (store) => {
    // The issue-12 attack: a client names its command after the runtime's record of an effect's result.
    const effectId = 'wf-1|refund|wf-1/d-1:direct-refund|1@2';
    const forged = makeCommand(`effect:${effectId}`, 'wf-1', 'client');
    await store.commit(makeCommit('wf-1', 1, { command: forged }));
    const runtimeRecord = makeCommand(`effect:${effectId}`, 'wf-1', 'runtime');

    await store.commit(makeCommit('wf-1', 2, { command: runtimeRecord }));

    expect(await store.getCommand('wf-1', 'client', `effect:${effectId}`)).toEqual(forged);
    expect(await store.getCommand('wf-1', 'runtime', `effect:${effectId}`)).toEqual(runtimeRecord);
    expect(await store.load('wf-1')).toMatchObject({ version: 2 });
    // The runtime's own namespace is still guarded against its own replays.
    await expect(store.commit(makeCommit('wf-1', 3, { command: runtimeRecord }))).rejects.toThrow(DuplicateCommandError);
  });

  test('a command scope other than client or runtime is refused (TypeError), in commits and in getCommand', async (store) => {
    const command = { ...makeCommand('cmd-1', 'wf-1'), scope: 'admin' as CommandScope };
    await expect(store.commit(makeCommit('wf-1', 1, { command }))).rejects.toThrow(TypeError);
    expect(await store.load('wf-1')).toBeUndefined();
    await expect(store.getCommand('wf-1', 'admin' as CommandScope, 'cmd-1')).rejects.toThrow(TypeError);
  });

  test('load returns the machineVersion and auditSeq each commit wrote', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { workflow: makeWorkflow('wf-1', 1, { machineVersion: 1, auditSeq: 1 }) }));
    expect(await store.load('wf-1')).toMatchObject({ version: 1, machineVersion: 1, auditSeq: 1 });

    // A commit may write several audit rows (catch-up) or none; a new machine version replaces the old.
    const upgraded = makeCommit('wf-1', 2, {
      workflow: makeWorkflow('wf-1', 2, { machineVersion: 2, auditSeq: 3 }),
      audit: [makeAudit('wf-1', 2), makeAudit('wf-1', 3)],
    });
    await store.commit(upgraded);
    await store.commit(makeCommit('wf-1', 3, { workflow: makeWorkflow('wf-1', 3, { machineVersion: 2, auditSeq: 3 }), audit: [] }));

    expect(await store.load('wf-1')).toEqual(makeWorkflow('wf-1', 3, { machineVersion: 2, auditSeq: 3 }));
    expect((await store.listAudit('wf-1')).map((row) => row.seq)).toEqual([1, 2, 3]);
  });

  test('INV4: a commit whose audit rows do not continue the stored auditSeq is refused and writes nothing', async (store) => {
    await store.commit(makeCommit('wf-1', 1));
    const before = await storedState(store, 'wf-1');

    // Continues seq 2 where the stored trail ends at 1: a gap.
    const gap = makeCommit('wf-1', 2, { audit: [makeAudit('wf-1', 3)], outbox: [makeEffect('wf-1', 'refund-1')] });
    // No audit rows but an auditSeq that moved.
    const moved = makeCommit('wf-1', 2, { workflow: makeWorkflow('wf-1', 2, { auditSeq: 2 }), audit: [] });

    for (const commit of [gap, moved]) {
      const error = await rejection(store.commit(commit));
      expect(error).toBeInstanceOf(TypeError);
      expect(String(error)).toMatch(/stored auditSeq is 1/);
    }
    expect(await storedState(store, 'wf-1')).toEqual(before);
  });

  test('INV4: a commit with an invalid machineVersion or auditSeq, or audit rows that skip a seq, is refused before any write', async (store) => {
    const invalid = [
      makeCommit('wf-1', 1, { workflow: makeWorkflow('wf-1', 1, { machineVersion: 0 }) }),
      makeCommit('wf-1', 1, { workflow: makeWorkflow('wf-1', 1, { machineVersion: 1.5 }) }),
      makeCommit('wf-1', 1, { workflow: makeWorkflow('wf-1', 1, { auditSeq: -1 }), audit: [] }),
      // A create starts the trail at 1.
      makeCommit('wf-1', 1, { audit: [makeAudit('wf-1', 2)] }),
      makeCommit('wf-1', 1, { workflow: makeWorkflow('wf-1', 1, { auditSeq: 3 }), audit: [makeAudit('wf-1', 1), makeAudit('wf-1', 3)] }),
    ];
    for (const commit of invalid) await expect(store.commit(commit)).rejects.toThrow(TypeError);
    expect(await store.load('wf-1')).toBeUndefined();
    expect(await store.listAudit('wf-1')).toEqual([]);
  });

  test('listAudit returns the rows of a workflow ordered by seq', async (store) => {
    const rows = [1, 2, 3].map((seq) => makeAudit('wf-1', seq, { eventType: `EVENT_${seq}` }));
    await store.commit(makeCommit('wf-1', 1, { audit: [rows[0]!] }));
    await store.commit(makeCommit('wf-1', 2, { audit: [rows[2]!, rows[1]!] }));
    await store.commit(makeCommit('wf-2', 1));

    expect(await store.listAudit('wf-1')).toEqual(rows);
    expect(await store.listAudit('wf-unknown')).toEqual([]);
  });

  test('an audit row whose (workflowId, seq) exists is refused and the commit writes nothing (INV4)', async (store) => {
    await store.commit(makeCommit('wf-1', 1));
    const before = await storedState(store, 'wf-1');

    const error = await rejection(
      store.commit(makeCommit('wf-1', 2, { audit: [makeAudit('wf-1', 1)], outbox: [makeEffect('wf-1', 'refund-1')] })),
    );

    expect(error).toBeInstanceOf(Error);
    expect(await storedState(store, 'wf-1')).toEqual(before);
  });

  test('queryCancelOrders filters by merchantId, orderId, status and reason (an empty list matches nothing)', async (store) => {
    const c1 = makeCancelOrder('c1', 'wf-1', { orderId: 'o1', merchantId: 'm1', status: 'pending', reason: 'outOfStock', createdAt: T0 + 1 });
    const c2 = makeCancelOrder('c2', 'wf-1', { orderId: 'o1', merchantId: 'm1', status: 'refunded', reason: 'changedMind', createdAt: T0 + 2 });
    const c3 = makeCancelOrder('c3', 'wf-2', { orderId: 'o2', merchantId: 'm1', status: 'pending', reason: 'changedMind', createdAt: T0 + 3 });
    const c4 = makeCancelOrder('c4', 'wf-3', { orderId: 'o3', merchantId: 'm2', status: 'pending', reason: 'outOfStock', createdAt: T0 + 4 });
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: [c2, c1] }));
    await store.commit(makeCommit('wf-2', 1, { cancelOrders: [c3] }));
    await store.commit(makeCommit('wf-3', 1, { cancelOrders: [c4] }));
    const query = (q: CancelOrderQuery) => store.queryCancelOrders(q).then(cancellationIds);

    expect(await store.queryCancelOrders({})).toEqual({ items: [c1, c2, c3, c4], nextCursor: null });
    expect(await query({ merchantId: 'm1' })).toEqual(['c1', 'c2', 'c3']);
    expect(await query({ orderId: 'o1' })).toEqual(['c1', 'c2']);
    expect(await query({ status: ['pending'] })).toEqual(['c1', 'c3', 'c4']);
    expect(await query({ status: ['pending', 'refunded'], merchantId: 'm2' })).toEqual(['c4']);
    expect(await query({ reason: ['changedMind'] })).toEqual(['c2', 'c3']);
    expect(await query({ reason: ['changedMind', 'outOfStock'], status: ['refunded'] })).toEqual(['c2']);
    expect(await query({ status: [] })).toEqual([]);
    expect(await query({ merchantId: 'm9' })).toEqual([]);
  });

  test('queryCancelOrders filters createdAt to [createdFrom, createdTo)', async (store) => {
    const rows = [1, 2, 3, 4].map((n) => makeCancelOrder(`c${n}`, 'wf-1', { createdAt: T0 + n }));
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: rows }));
    const query = (q: CancelOrderQuery) => store.queryCancelOrders(q).then(cancellationIds);

    expect(await query({ createdFrom: T0 + 2, createdTo: T0 + 4 })).toEqual(['c2', 'c3']);
    expect(await query({ createdFrom: T0 + 4 })).toEqual(['c4']);
    expect(await query({ createdTo: T0 + 2 })).toEqual(['c1']);
  });

  test('queryCancelOrders pages in (createdAt, workflowId, cancellationId) order with a keyset cursor', async (store) => {
    const createdAt = { a: 3, b: 1, c: 2, d: 2, e: 1, f: 3, g: 2 };
    const rows = Object.entries(createdAt).map(([id, offset]) =>
      makeCancelOrder(id, 'wf-1', { createdAt: T0 + offset, merchantId: id === 'c' ? 'other' : 'm1' }),
    );
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: rows }));

    const page1 = await store.queryCancelOrders({ merchantId: 'm1', limit: 2 });
    expect(cancellationIds(page1)).toEqual(['b', 'e']);
    expect(page1.nextCursor).toEqual(expect.any(String));

    // Keyset, not offset: a row inserted before the cursor shifts nothing after it.
    await store.commit(makeCommit('wf-1', 2, { cancelOrders: [makeCancelOrder('a0', 'wf-1', { createdAt: T0, merchantId: 'm1' })] }));

    const page2 = await store.queryCancelOrders({ merchantId: 'm1', limit: 2, cursor: page1.nextCursor });
    expect(cancellationIds(page2)).toEqual(['d', 'g']);
    const page3 = await store.queryCancelOrders({ merchantId: 'm1', limit: 2, cursor: page2.nextCursor });
    expect(page3).toEqual({ items: [rows[0], rows[5]], nextCursor: null });
  });

  test('X2: queryCancelOrders refuses a limit outside 1..500 and a malformed cursor with InvalidQueryError', async (store) => {
    for (const query of [{ limit: 0 }, { limit: 501 }, { limit: 2.5 }, { cursor: 'not-a-cursor' }]) {
      await expect(store.queryCancelOrders(query)).rejects.toThrow(InvalidQueryError);
    }
    expect(await store.queryCancelOrders({ limit: 500 })).toEqual({ items: [], nextCursor: null });
    expect(await store.queryCancelOrders({ cursor: null })).toEqual({ items: [], nextCursor: null });
  });

  test('X2: a query that breaks its schema is refused with InvalidQueryError naming each field, on every store alike', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: [makeCancelOrder('c1', 'wf-1')] }));
    const forgedCursor = Buffer.from(JSON.stringify([T0, 'wf-1\u0000', 'c1'])).toString('base64url');
    const cases: Array<[unknown, string[]]> = [
      [{ cursor: 'garbage!!' }, ['cursor']],
      [{ cursor: forgedCursor }, ['cursor']],
      [{ cursor: 42 }, ['cursor']],
      [{ limit: 0 }, ['limit']],
      [{ limit: '10' }, ['limit']],
      [{ createdFrom: '1700000000000' }, ['createdFrom']],
      [{ createdFrom: Number.NaN }, ['createdFrom']],
      [{ createdTo: Number.POSITIVE_INFINITY }, ['createdTo']],
      [{ createdFrom: -1 }, ['createdFrom']],
      [{ merchantId: 'merchant\u0000-1' }, ['merchantId']],
      [{ orderId: '\uD800' }, ['orderId']],
      [{ merchantId: 'm'.repeat(10_000) }, ['merchantId']],
      [{ status: 'pending' }, ['status']],
      [{ status: ['pending', 'refunded\u0000'] }, ['status.1']],
      [{ reason: [42] }, ['reason.0']],
      [{ merchant: 'merchant-1' }, ['']],
      [{ merchantId: 7, limit: 0 }, ['merchantId', 'limit']],
      [null, ['']],
      ['status=pending', ['']],
    ];
    for (const [query, paths] of cases) {
      const error = await rejection(store.queryCancelOrders(query as CancelOrderQuery));
      expect(error, JSON.stringify(query)).toBeInstanceOf(InvalidQueryError);
      expect((error as InvalidQueryError).code).toBe('INVALID_QUERY');
      expect(
        (error as InvalidQueryError).issues.map((issue) => issue.path),
        JSON.stringify(query),
      ).toEqual(paths);
    }
  });

  test('X2: a filter list is checked for its length before its elements: 200,000 values cost one issue and no time', async (store) => {
    const values = Array.from({ length: 200_000 }, (_, i) => (i % 2 ? 'pending' : '\u0000'));
    const started = performance.now();
    const error = await rejection(store.queryCancelOrders({ status: values }));
    const elapsedMs = performance.now() - started;

    expect(error).toBeInstanceOf(InvalidQueryError);
    expect((error as InvalidQueryError).issues).toEqual([{ path: 'status', message: expect.stringMatching(/50/) }]);
    expect(elapsedMs).toBeLessThan(200);
    expect(cancellationIds(await store.queryCancelOrders({ status: Array.from({ length: 50 }, () => 'pending') }))).toEqual([]);
  });

  test('upserting a cancel order replaces the row with the same (workflowId, cancellationId)', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: [makeCancelOrder('c1', 'wf-1')] }));
    const refunded = makeCancelOrder('c1', 'wf-1', { status: 'refunded', refundTriggerKind: 'merchantAgreed', updatedAt: T0 + 5 });

    await store.commit(makeCommit('wf-1', 2, { cancelOrders: [refunded] }));

    expect(await store.queryCancelOrders({})).toEqual({ items: [refunded], nextCursor: null });
  });

  test('X2: two orders using the same cancel-order id keep a row each; upserts and pages tell them apart', async (store) => {
    // Same cancellationId and createdAt in three workflows: only the workflow id orders them.
    const [a, b, c] = ['wf-b', 'wf-a', 'wf-c'].map((workflowId) =>
      makeCancelOrder('dispute-1:intercept-48h', workflowId, { orderId: `order-${workflowId}`, createdAt: T0 + 7 }),
    ) as [CancelOrderRow, CancelOrderRow, CancelOrderRow];
    const earlier = makeCancelOrder('dispute-1:direct-refund', 'wf-c', { orderId: 'order-wf-c', createdAt: T0 + 1 });
    await store.commit(makeCommit('wf-b', 1, { cancelOrders: [a] }));
    await store.commit(makeCommit('wf-a', 1, { cancelOrders: [b] }));
    await store.commit(makeCommit('wf-c', 1, { cancelOrders: [c, earlier] }));

    const refundedB = { ...b, status: 'refunded', refundTriggerKind: 'timer', updatedAt: T0 + 9 };
    await store.commit(makeCommit('wf-a', 2, { cancelOrders: [refundedB] }));

    expect(await store.queryCancelOrders({})).toEqual({ items: [earlier, refundedB, a, c], nextCursor: null });
    expect(await store.queryCancelOrders({ orderId: 'order-wf-b' })).toEqual({ items: [a], nextCursor: null });
    expect(cancellationIds(await store.queryCancelOrders({ status: ['refunded'] }))).toEqual(['dispute-1:intercept-48h']);

    const seen: CancelOrderRow[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<CancelOrderRow> = await store.queryCancelOrders({ limit: 1, cursor });
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([earlier, refundedB, a, c]);
  });

  test('nextDueAt returns the earliest pending deadline, or null when there is none', async (store) => {
    expect(await store.nextDueAt()).toBeNull();
    await store.commit(makeCommit('wf-1', 1, { deadlines: [makeDeadline('wf-1', T0 + 5000), makeDeadline('wf-1', T0 + 8000)] }));
    await store.commit(makeCommit('wf-2', 1, { deadlines: [makeDeadline('wf-2', T0 + 3000)] }));
    expect(await store.nextDueAt()).toBe(T0 + 3000);

    await store.commit(makeCommit('wf-2', 2, { deadlines: [] }));
    expect(await store.nextDueAt()).toBe(T0 + 5000);
    await store.commit(makeCommit('wf-1', 2, { deadlines: [] }));
    expect(await store.nextDueAt()).toBeNull();
  });

  test('nextDueAt counts a leased deadline from the end of its lease, so an idle loop never spins on it', async (store) => {
    const leased = makeDeadline('wf-1', T0);
    const later = makeDeadline('wf-2', T0 + 5000);
    await store.commit(makeCommit('wf-1', 1, { deadlines: [leased] }));
    await store.commit(makeCommit('wf-2', 1, { deadlines: [later] }));
    expect(await store.claimDueDeadlines(claimAt('worker-a', T0, 10, 1000))).toEqual([leased]);

    // Claimable again when expiry < now: at T0 + 1001, before the unleased row's due time.
    expect(await store.nextDueAt()).toBe(T0 + 1001);
    expect(await store.claimDueDeadlines(claimAt('worker-b', T0 + 1000))).toEqual([]);
    expect(await store.claimDueDeadlines(claimAt('worker-b', T0 + 1001, 10, 10_000))).toEqual([leased]);

    // Leased until T0 + 11001 now (claimable at T0 + 11002): the unleased row is due first.
    expect(await store.nextDueAt()).toBe(T0 + 5000);
    expect(await store.claimDueDeadlines(claimAt('worker-c', T0 + 5000, 10, 60_000))).toEqual([later]);
    expect(await store.nextDueAt()).toBe(T0 + 11_002);

    // A fired deadline is deleted by its commit, lease and all.
    await store.commit(makeCommit('wf-1', 2, { deadlines: [] }));
    expect(await store.nextDueAt()).toBe(T0 + 65_001);
    await store.commit(makeCommit('wf-2', 2, { deadlines: [] }));
    expect(await store.nextDueAt()).toBeNull();
  });

  test('INV5: highWaterMark is the highest observedAt of any written commit; a clock set back lowers nothing, a refused commit counts for nothing', async (store) => {
    expect(await store.highWaterMark()).toBe(0);
    await store.commit(makeCommit('wf-1', 1, { observedAt: T0 + 500 }));
    await store.commit(makeCommit('wf-2', 1, { observedAt: T0 + 900 }));
    expect(await store.highWaterMark()).toBe(T0 + 900);

    // A runtime whose clock stepped back commits on both workflows: the mark stays.
    await store.commit(makeCommit('wf-2', 2, { observedAt: T0 + 100 }));
    await store.commit(makeCommit('wf-1', 2, { observedAt: T0 + 100 }));
    expect(await store.highWaterMark()).toBe(T0 + 900);

    await expect(store.commit(makeCommit('wf-1', 2, { observedAt: T0 + 99_999 }))).rejects.toThrow(VersionConflictError);
    expect(await store.highWaterMark()).toBe(T0 + 900);

    await store.commit(makeCommit('wf-1', 3, { observedAt: T0 + 1000 }));
    expect(await store.highWaterMark()).toBe(T0 + 1000);
  });

  test('INV4: a commit whose observedAt is not a non-negative safe integer is refused before any write', async (store) => {
    for (const observedAt of [-1, 1.5, Number.NaN, 2 ** 53]) {
      await expect(store.commit(makeCommit('wf-1', 1, { observedAt }))).rejects.toThrow(TypeError);
    }
    expect(await store.load('wf-1')).toBeUndefined();
    expect(await store.highWaterMark()).toBe(0);
  });

  test('INV4: hostile strings as JSON content and keys (snapshot, event, payload, result) are kept exactly or refused with InvalidPayloadError', async (store) => {
    let version = 0;
    for (const [name, value] of HOSTILE_STRINGS) {
      const json = { text: value, list: [value], [value]: { nested: value } };
      const next = version + 1;
      const commit = makeCommit('wf-1', next, {
        workflow: makeWorkflow('wf-1', next, { snapshot: json }),
        audit: [makeAudit('wf-1', next, { event: json, resultingState: json })],
        outbox: [makeEffect('wf-1', `key-${next}`, { payload: json })],
        command: { ...makeCommand(`cmd-${next}`, 'wf-1'), result: json },
      });
      if (isStorable(value)) {
        await store.commit(commit);
        version = next;
        const loaded = await store.load('wf-1');
        expect(loaded?.snapshot, name).toEqual(json);
        expect(Object.keys(loaded?.snapshot as object).sort(), name).toEqual(Object.keys(json).sort());
        expect((await store.listAudit('wf-1')).at(-1)?.event, name).toEqual(json);
        expect((await store.listOutbox('wf-1')).find((row) => row.idempotencyKey === `key-${next}`)?.payload, name).toEqual(json);
        expect((await store.getCommand('wf-1', 'client', `cmd-${next}`))?.result, name).toEqual(json);
      } else {
        const before = await storedState(store, 'wf-1');
        const error = await rejection(store.commit(commit));
        expect(error, name).toBeInstanceOf(InvalidPayloadError);
        expect((error as InvalidPayloadError).issues[0]?.path, name).toBe('workflow.snapshot.text');
        expect(await storedState(store, 'wf-1'), name).toEqual(before);
      }
    }
    expect(version).toBe(HOSTILE_STRINGS.filter(([, value]) => isStorable(value)).length);
  });

  test('INV4: hostile strings in text columns (audit, deadline, outbox, cancel order, command) are kept exactly or refused, never altered', async (store) => {
    let version = 0;
    for (const [name, value] of HOSTILE_STRINGS) {
      const next = version + 1;
      const deadline = { ...makeDeadline('wf-1', T0 + next), timer: value, eventType: value, actorPath: value };
      const effect = makeEffect('wf-1', value, { effectId: `effect-${next}`, lastError: value });
      const cancelOrder = makeCancelOrder(`c-${next}`, 'wf-1', { status: value, reason: value, origin: value, refundTriggerKind: value });
      const commit = makeCommit('wf-1', next, {
        workflow: makeWorkflow('wf-1', next, { status: 'active' }),
        audit: [makeAudit('wf-1', next, { role: value, actorId: value, eventType: value, commandId: value })],
        deadlines: [deadline],
        outbox: [effect],
        cancelOrders: [cancelOrder],
        command: { ...makeCommand(`cmd-${next}`, 'wf-1'), payloadHash: value },
      });
      if (isStorable(value)) {
        await store.commit(commit);
        version = next;
        expect((await store.listAudit('wf-1')).at(-1), name).toEqual(commit.audit[0]);
        expect(await store.listDeadlines('wf-1'), name).toEqual([deadline]);
        expect(
          (await store.listOutbox('wf-1')).find((row) => row.effectId === effect.effectId),
          name,
        ).toEqual(effect);
        const listed = (await store.queryCancelOrders({ limit: 500 })).items;
        expect(
          listed.find((row) => row.cancellationId === cancelOrder.cancellationId),
          name,
        ).toEqual(cancelOrder);
        // A filter value is at most 512 bytes, like an id.
        const filtered = store.queryCancelOrders({ status: [value], reason: [value] });
        if (isStorableId(value)) expect((await filtered).items, name).toEqual([cancelOrder]);
        else await expect(filtered, name).rejects.toThrow(InvalidQueryError);
        expect(await store.getCommand('wf-1', 'client', `cmd-${next}`), name).toEqual(commit.command);
      } else {
        const before = await storedState(store, 'wf-1');
        const error = await rejection(store.commit(commit));
        expect(error, name).toBeInstanceOf(InvalidPayloadError);
        expect((error as InvalidPayloadError).issues[0]?.path, name).toBe('audit[0].role');
        expect(await storedState(store, 'wf-1'), name).toEqual(before);
        await expect(store.queryCancelOrders({ status: [value] }), name).rejects.toThrow(InvalidQueryError);
      }
    }
  });

  test('INV4: hostile strings as ids are kept and found exactly, refused when unstorable or above 512 bytes; looking one up never fails', async (store) => {
    for (const [name, value] of HOSTILE_STRINGS) {
      // Lookups of an id that was never stored answer "nothing" on every store, whatever the id.
      expect(await store.load(value), name).toBeUndefined();
      expect(await store.getCommand(value, 'client', value), name).toBeUndefined();
      expect(await store.listAudit(value), name).toEqual([]);
      expect(await store.listDeadlines(value), name).toEqual([]);
      expect(await store.listOutbox(value), name).toEqual([]);
      await store.completeEffect(value);
      await store.recordEffectFailure(value, { error: value, availableAt: T0, dead: false });

      const cancelOrder = makeCancelOrder(value, value, { orderId: value, merchantId: value });
      const commit = makeCommit(value, 1, {
        workflow: makeWorkflow(value, 1, { orderId: value, merchantId: value }),
        audit: [makeAudit(value, 1)],
        cancelOrders: [cancelOrder],
        command: makeCommand(value, value),
      });
      if (isStorableId(value)) {
        await store.commit(commit);
        expect(await store.load(value), name).toEqual(commit.workflow);
        expect(await store.getCommand(value, 'client', value), name).toEqual(commit.command);
        expect(await store.queryCancelOrders({ merchantId: value, orderId: value }), name).toEqual({ items: [cancelOrder], nextCursor: null });
      } else {
        const error = await rejection(store.commit(commit));
        expect(error, name).toBeInstanceOf(InvalidPayloadError);
        expect((error as InvalidPayloadError).issues[0]?.path, name).toBe('workflow.workflowId');
        expect(await store.load(value), name).toBeUndefined();
        await expect(store.queryCancelOrders({ merchantId: value }), name).rejects.toThrow(InvalidQueryError);
      }
    }
  });

  test('X2: ids page in code point order (UTF-8 byte order) on every store, emoji and U+E000..U+FFFF included', async (store) => {
    const ids = HOSTILE_STRINGS.map(([, value]) => value).filter(isStorableId);
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: ids.map((id) => makeCancelOrder(id, 'wf-1')) }));
    const byCodePoint = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<CancelOrderRow> = await store.queryCancelOrders({ limit: 3, cursor });
      seen.push(...cancellationIds(page));
      cursor = page.nextCursor;
    } while (cursor !== null);

    expect(seen).toEqual(byCodePoint);
  });

  test('INV6: an effect failure text is stored made storable (NUL and unpaired surrogates become U+FFFD), the same on every store', async (store) => {
    const effects = HOSTILE_STRINGS.map((_, i) => makeEffect('wf-1', `key-${i}`, { effectId: `effect-${i}` }));
    await store.commit(makeCommit('wf-1', 1, { outbox: effects }));

    for (const [i, [, value]] of HOSTILE_STRINGS.entries()) {
      await store.recordEffectFailure(`effect-${i}`, { error: value, availableAt: T0 + 1, dead: false });
    }

    const stored = new Map((await store.listOutbox('wf-1')).map((row) => [row.effectId, row]));
    for (const [i, [name, value]] of HOSTILE_STRINGS.entries()) {
      expect(stored.get(`effect-${i}`), name).toMatchObject({ attempts: 1, status: 'pending', lastError: sanitizeText(value) });
    }
    expect(stored.get('effect-0')?.lastError).toBe('a\uFFFDb');
  });

  test('commitAll (the optional batch capability) writes each commit atomically on its own and answers in input order (INV4)', async (store) => {
    const batch = store as WorkflowStore & { commitAll?: (commits: readonly Commit[]) => Promise<unknown[]> };
    // Stores without the capability are held to the same outcome, one commit at a time.
    const commitAll =
      batch.commitAll?.bind(batch) ??
      (async (commits: readonly Commit[]) => {
        const outcomes: unknown[] = [];
        for (const commit of commits)
          outcomes.push(
            await store.commit(commit).then(
              () => null,
              (error: unknown) => error,
            ),
          );
        return outcomes;
      });
    await store.commit(makeCommit('wf-a', 1, { command: makeCommand('cmd-1', 'wf-a') }));
    await store.commit(makeCommit('wf-b', 1, { command: makeCommand('cmd-1', 'wf-b') }));
    await store.commit(makeCommit('wf-c', 1));
    await store.commit(makeCommit('wf-c', 2));
    const before = await storedState(store, 'wf-c');

    const fresh = makeCommit('wf-d', 1, { deadlines: [makeDeadline('wf-d', T0)], cancelOrders: [makeCancelOrder('c1', 'wf-d')] });
    const update = makeCommit('wf-b', 2, { outbox: [makeEffect('wf-b', 'refund-1')] });
    const stale = makeCommit('wf-c', 2, { deadlines: [makeDeadline('wf-c', T0)] });
    const duplicate = makeCommit('wf-a', 2, { command: makeCommand('cmd-1', 'wf-a') });
    const outcomes = await commitAll([fresh, stale, update, duplicate]);

    expect(outcomes).toHaveLength(4);
    expect(outcomes[0]).toBeNull();
    expect(outcomes[1]).toBeInstanceOf(VersionConflictError);
    expect(outcomes[2]).toBeNull();
    expect(outcomes[3]).toBeInstanceOf(DuplicateCommandError);
    expect(await storedState(store, 'wf-d')).toMatchObject({ workflow: fresh.workflow, deadlines: fresh.deadlines });
    expect(await store.listOutbox('wf-b')).toEqual(update.outbox);
    expect(await storedState(store, 'wf-c')).toEqual({ ...before, cancelOrders: [...fresh.cancelOrders] });
    expect(await store.load('wf-a')).toMatchObject({ version: 1 });
  });

  test('INV4: hostile strings through commitAll (on PostgreSQL one statement for the batch), a workflow per string: JSON content and text columns kept exactly, unstorable ones refused with InvalidPayloadError and the rest written', async (store) => {
    const batch = store as WorkflowStore & { commitAll?: (commits: readonly Commit[]) => Promise<unknown[]> };
    if (!batch.commitAll) return expect(batch.commitAll).toBeUndefined();
    const commits = HOSTILE_STRINGS.map(([, value], i) => {
      const id = `wf-h${i}`;
      const json = { text: value, list: [value, 'plain'], [value]: { nested: value } };
      return makeCommit(id, 1, {
        workflow: makeWorkflow(id, 1, { snapshot: json }),
        audit: [makeAudit(id, 1, { event: json, resultingState: json, actorId: value, eventType: value })],
        deadlines: [{ ...makeDeadline(id, T0 + i), timer: value, eventType: value, actorPath: value }],
        outbox: [makeEffect(id, `key-${i}`, { payload: json, lastError: value })],
        cancelOrders: [makeCancelOrder(`c-${i}`, id, { status: value, reason: value })],
        command: { ...makeCommand(`cmd-${i}`, id), result: json, payloadHash: value },
      });
    });
    const outcomes = await batch.commitAll(commits);
    for (const [i, [name, value]] of HOSTILE_STRINGS.entries()) {
      const commit = commits[i]!;
      const id = commit.workflow.workflowId;
      if (isStorable(value)) {
        expect(outcomes[i], name).toBeNull();
        expect((await store.load(id))?.snapshot, name).toEqual(commit.workflow.snapshot);
        expect(await store.listAudit(id), name).toEqual(commit.audit);
        expect(await store.listDeadlines(id), name).toEqual(commit.deadlines);
        expect(await store.listOutbox(id), name).toEqual(commit.outbox);
        expect(await store.getCommand(id, 'client', `cmd-${i}`), name).toEqual(commit.command);
      } else {
        expect(outcomes[i], name).toBeInstanceOf(InvalidPayloadError);
        expect(await store.load(id), name).toBeUndefined();
        expect(await store.listAudit(id), name).toEqual([]);
      }
    }
    const kept = (await store.queryCancelOrders({ limit: 500 })).items;
    expect(kept.map((row) => row.workflowId).sort()).toEqual(
      commits
        .filter((_, i) => isStorable(HOSTILE_STRINGS[i]![1]))
        .map((commit) => commit.workflow.workflowId)
        .sort(),
    );
  });

  test('close() may be called again, also while the first call is under way: every call resolves', async (store) => {
    await store.commit(makeCommit('wf-1', 1));
    await Promise.all([store.close(), store.close()]);
    await store.close();
  });

  test('two commits racing on the same expectedVersion: exactly one succeeds, the other throws VersionConflictError', async (store) => {
    await store.commit(makeCommit('wf-1', 1));
    const racers = ['a', 'b'].map((name) =>
      makeCommit('wf-1', 2, {
        workflow: makeWorkflow('wf-1', 2, { snapshot: { winner: name } }),
        audit: [makeAudit('wf-1', 2, { actorId: name })],
        deadlines: [makeDeadline('wf-1', T0 + (name === 'a' ? 1 : 2))],
      }),
    );

    const outcomes = await Promise.all(
      racers.map((commit) =>
        store.commit(commit).then(
          () => 'ok',
          (error: unknown) => error,
        ),
      ),
    );

    expect(outcomes.filter((outcome) => outcome === 'ok')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome instanceof VersionConflictError)).toHaveLength(1);
    const winner = racers[outcomes.indexOf('ok')]!;
    expect(await storedState(store, 'wf-1')).toMatchObject({
      workflow: winner.workflow,
      audit: [makeAudit('wf-1', 1), ...winner.audit],
      deadlines: winner.deadlines,
    });
  });

  test('two creates racing on the same workflow id: exactly one succeeds, the other throws VersionConflictError', async (store) => {
    const racers = ['a', 'b'].map((name) => makeCommit('wf-1', 1, { workflow: makeWorkflow('wf-1', 1, { snapshot: { winner: name } }) }));

    const outcomes = await Promise.all(
      racers.map((commit) =>
        store.commit(commit).then(
          () => 'ok',
          (error: unknown) => error,
        ),
      ),
    );

    expect(outcomes.filter((outcome) => outcome === 'ok')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome instanceof VersionConflictError)).toHaveLength(1);
    expect(await store.load('wf-1')).toEqual(racers[outcomes.indexOf('ok')]!.workflow);
  });

  // --- the work queues: cancel orders by customer and refund reason, the dispute listing, counts ------

  test('R1/X2: queryCancelOrders filters by customerId (a customer lists its own cancel orders)', async (store) => {
    const mine = makeCancelOrder('c1', 'wf-1', { customerId: 'c-1' });
    const theirs = makeCancelOrder('c2', 'wf-2', { customerId: 'c-2', createdAt: T0 + 1 });
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: [mine] }));
    await store.commit(makeCommit('wf-2', 1, { cancelOrders: [theirs] }));

    expect(await store.queryCancelOrders({ customerId: 'c-1' })).toEqual({ items: [mine], nextCursor: null });
    expect(cancellationIds(await store.queryCancelOrders({ customerId: 'c-2', merchantId: 'merchant-1' }))).toEqual(['c2']);
    expect(cancellationIds(await store.queryCancelOrders({ customerId: 'c-9' }))).toEqual([]);
  });

  test('D6/X2: the reason filter matches why a cancel order was opened or why it was refunded', async (store) => {
    // The customer's own cancel order, refunded by a ruling (D6): opened as 用户申请取消, refunded as 平台判责退款.
    const ruled = makeCancelOrder('cancel-1', 'wf-1', {
      reason: 'CUSTOMER_REQUEST',
      refundReason: 'PLATFORM_RULING_REFUND',
      refundTriggerKind: 'platformRuling',
      status: 'refunded',
    });
    const created = makeCancelOrder('d-2:ruling-refund', 'wf-2', {
      reason: 'PLATFORM_RULING_REFUND',
      refundReason: 'PLATFORM_RULING_REFUND',
      refundTriggerKind: 'platformRuling',
      status: 'refunding',
      createdAt: T0 + 1,
    });
    const approved = makeCancelOrder('cancel-3', 'wf-3', {
      reason: 'CUSTOMER_REQUEST',
      refundReason: 'CUSTOMER_REQUEST',
      refundTriggerKind: 'merchant',
      createdAt: T0 + 2,
    });
    const pending = makeCancelOrder('cancel-4', 'wf-4', { reason: 'CUSTOMER_REQUEST', createdAt: T0 + 3 });
    for (const [index, row] of [ruled, created, approved, pending].entries()) {
      await store.commit(makeCommit(`wf-${index + 1}`, 1, { cancelOrders: [row] }));
    }

    expect(await store.queryCancelOrders({ reason: ['PLATFORM_RULING_REFUND'] })).toEqual({ items: [ruled, created], nextCursor: null });
    expect(cancellationIds(await store.queryCancelOrders({ reason: ['CUSTOMER_REQUEST'] }))).toEqual(['cancel-1', 'cancel-3', 'cancel-4']);
    expect(cancellationIds(await store.queryCancelOrders({ reason: ['PLATFORM_RULING_REFUND'], status: ['refunded'] }))).toEqual(['cancel-1']);
  });

  test('queryDisputes lists every dispute soonest next deadline first, those without one last, ties by (workflowId, disputeId)', async (store) => {
    const rows = [
      makeDispute('d-1', 'wf-b', { nextDueAt: T0 + 3 * HOUR }),
      makeDispute('d-1', 'wf-a', { nextDueAt: T0 + 3 * HOUR }),
      makeDispute('d-2', 'wf-c', { nextDueAt: T0 + HOUR }),
      makeDispute('d-0', 'wf-c', { status: 'resolved', plan: 'DIRECT_REFUND', waitingOn: null, nextDueAt: null, nextTimer: null }),
      makeDispute('d-9', 'wf-a', { status: 'withdrawn', waitingOn: null, nextDueAt: null, nextTimer: null }),
    ];
    await store.commit(makeCommit('wf-a', 1, { disputes: [rows[1]!, rows[4]!] }));
    await store.commit(makeCommit('wf-b', 1, { disputes: [rows[0]!] }));
    await store.commit(makeCommit('wf-c', 1, { disputes: [rows[2]!, rows[3]!] }));

    const page = await store.queryDisputes({});
    expect(page).toEqual({ items: [rows[2], rows[1], rows[0], rows[4], rows[3]], nextCursor: null });
  });

  test('queryDisputes filters by merchant, customer, order, status, plan and whose move it is (an empty list matches nothing)', async (store) => {
    const a = makeDispute('d-a', 'wf-1', { merchantId: 'm-1', customerId: 'c-1', nextDueAt: T0 + 1 });
    const b = makeDispute('d-b', 'wf-2', {
      merchantId: 'm-1',
      customerId: 'c-2',
      status: 'awaitingCustomerConfirmation',
      plan: 'WAIT_48H_INTERCEPT',
      waitingOn: 'customer',
      nextDueAt: T0 + 2,
      nextTimer: 'customerConfirmationWindow',
    });
    const c = makeDispute('d-c', 'wf-3', {
      merchantId: 'm-2',
      customerId: 'c-1',
      status: 'awaitingPlatformRuling',
      plan: 'PLATFORM_RULING',
      waitingOn: 'platform',
      nextDueAt: null,
      nextTimer: null,
    });
    const d = makeDispute('d-d', 'wf-4', { merchantId: 'm-2', customerId: 'c-3', nextDueAt: T0 + 3 });
    for (const [index, row] of [a, b, c, d].entries()) await store.commit(makeCommit(`wf-${index + 1}`, 1, { disputes: [row] }));
    const query = (q: DisputeQuery) => store.queryDisputes(q).then(disputeIds);

    expect(await store.queryDisputes({ merchantId: 'm-1', waitingOn: ['merchant'] })).toEqual({ items: [a], nextCursor: null });
    expect(await query({ merchantId: 'm-1' })).toEqual(['d-a', 'd-b']);
    expect(await query({ customerId: 'c-1' })).toEqual(['d-a', 'd-c']);
    expect(await query({ orderId: 'order-wf-4' })).toEqual(['d-d']);
    expect(await query({ status: ['awaitingMerchantChoice'] })).toEqual(['d-a', 'd-d']);
    expect(await query({ status: ['awaitingPlatformRuling', 'awaitingCustomerConfirmation'] })).toEqual(['d-b', 'd-c']);
    expect(await query({ plan: ['PLATFORM_RULING'] })).toEqual(['d-c']);
    expect(await query({ plan: ['WAIT_48H_INTERCEPT', 'DIRECT_REFUND'], customerId: 'c-2' })).toEqual(['d-b']);
    expect(await query({ waitingOn: ['platform'] })).toEqual(['d-c']);
    expect(await query({ waitingOn: ['merchant', 'customer'], merchantId: 'm-2' })).toEqual(['d-d']);
    expect(await query({ status: [] })).toEqual([]);
    expect(await query({ plan: [] })).toEqual([]);
    expect(await query({ waitingOn: [] })).toEqual([]);
    expect(await query({ merchantId: 'm-9' })).toEqual([]);
  });

  test('queryDisputes filters the next deadline to [dueFrom, dueBefore): a dispute without a deadline never matches a due filter', async (store) => {
    const rows = [1, 2, 3, 4].map((n) => makeDispute(`d-${n}`, 'wf-1', { nextDueAt: T0 + n * HOUR }));
    const none = makeDispute('d-none', 'wf-1', { nextDueAt: null, nextTimer: null, waitingOn: 'platform', status: 'awaitingPlatformRuling' });
    await store.commit(makeCommit('wf-1', 1, { disputes: [...rows, none] }));
    const query = (q: DisputeQuery) => store.queryDisputes(q).then(disputeIds);

    expect(await query({ dueFrom: T0 + 2 * HOUR, dueBefore: T0 + 4 * HOUR })).toEqual(['d-2', 'd-3']);
    expect(await query({ dueBefore: T0 + 2 * HOUR })).toEqual(['d-1']);
    expect(await query({ dueBefore: T0 + 2 * HOUR - 1 })).toEqual(['d-1']);
    expect(await query({ dueBefore: T0 + HOUR })).toEqual([]);
    expect(await query({ dueFrom: T0 + 4 * HOUR })).toEqual(['d-4']);
    expect(await query({ dueFrom: T0 + 4 * HOUR + 1 })).toEqual([]);
    expect(await query({ dueFrom: 0, dueBefore: 8_640_000_000_000_000 })).toEqual(['d-1', 'd-2', 'd-3', 'd-4']);
    expect(await query({})).toEqual(['d-1', 'd-2', 'd-3', 'd-4', 'd-none']);
  });

  test('queryDisputes pages with a keyset cursor: a dispute whose deadline moves behind the cursor is not seen twice', async (store) => {
    const rows = [1, 2, 3, 4, 5].map((n) => makeDispute(`d-${n}`, `wf-${n}`, { nextDueAt: T0 + n }));
    for (const [index, row] of rows.entries()) await store.commit(makeCommit(`wf-${index + 1}`, 1, { disputes: [row] }));

    const page1 = await store.queryDisputes({ limit: 2 });
    expect(disputeIds(page1)).toEqual(['d-1', 'd-2']);
    expect(page1.nextCursor).toEqual(expect.any(String));

    // d-1 is answered (its deadline now later than everything), d-0 opens before the cursor.
    const answered = {
      ...rows[0]!,
      status: 'awaitingCustomerConfirmation',
      waitingOn: 'customer',
      nextDueAt: T0 + 10,
      nextTimer: 'customerConfirmationWindow',
    };
    await store.commit(makeCommit('wf-1', 2, { disputes: [answered] }));
    await store.commit(makeCommit('wf-0', 1, { disputes: [makeDispute('d-0', 'wf-0', { nextDueAt: T0 })] }));

    const page2 = await store.queryDisputes({ limit: 2, cursor: page1.nextCursor });
    expect(disputeIds(page2)).toEqual(['d-3', 'd-4']);
    const page3 = await store.queryDisputes({ limit: 2, cursor: page2.nextCursor });
    expect(page3).toEqual({ items: [rows[4], answered], nextCursor: null });
    expect(disputeIds(await store.queryDisputes({ limit: 500 }))).toEqual(['d-0', 'd-2', 'd-3', 'd-4', 'd-5', 'd-1']);
  });

  test('queryDisputes: the same dispute id in two workflows is two rows; an upsert replaces only its own', async (store) => {
    const a = makeDispute('d-1', 'wf-a');
    const b = makeDispute('d-1', 'wf-b');
    await store.commit(makeCommit('wf-a', 1, { disputes: [a] }));
    await store.commit(makeCommit('wf-b', 1, { disputes: [b] }));
    const resolved = { ...b, status: 'resolved', plan: 'DIRECT_REFUND', waitingOn: null, nextDueAt: null, nextTimer: null, updatedAt: T0 + 9 };

    await store.commit(makeCommit('wf-b', 2, { disputes: [resolved] }));

    expect(await store.queryDisputes({})).toEqual({ items: [a, resolved], nextCursor: null });
  });

  test('queryDisputes refuses a malformed query with InvalidQueryError naming each field, a cancel-order cursor included', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { cancelOrders: [makeCancelOrder('c1', 'wf-1')], disputes: [makeDispute('d-1', 'wf-1')] }));
    await store.commit(makeCommit('wf-2', 1, { cancelOrders: [makeCancelOrder('c2', 'wf-2')], disputes: [makeDispute('d-2', 'wf-2')] }));
    const cancelOrderCursor = (await store.queryCancelOrders({ limit: 1 })).nextCursor;
    expect(cancelOrderCursor).toEqual(expect.any(String));
    const cases: Array<[unknown, string[]]> = [
      [{ cursor: cancelOrderCursor }, ['cursor']],
      [{ cursor: 'garbage!!' }, ['cursor']],
      [{ limit: 0 }, ['limit']],
      [{ limit: 501 }, ['limit']],
      [{ dueFrom: '1700000000000' }, ['dueFrom']],
      [{ dueBefore: -1 }, ['dueBefore']],
      [{ waitingOn: 'merchant' }, ['waitingOn']],
      [{ status: ['awaitingMerchantChoice', 'x\u0000'] }, ['status.1']],
      [{ plan: Array.from({ length: 51 }, () => 'DIRECT_REFUND') }, ['plan']],
      [{ merchantId: 'm'.repeat(10_000) }, ['merchantId']],
      [{ merchant: 'm-1' }, ['']],
      [null, ['']],
    ];
    for (const [query, paths] of cases) {
      const error = await rejection(store.queryDisputes(query as DisputeQuery));
      expect(error, JSON.stringify(query)).toBeInstanceOf(InvalidQueryError);
      expect(
        (error as InvalidQueryError).issues.map((issue) => issue.path),
        JSON.stringify(query),
      ).toEqual(paths);
    }
  });

  test('a dispute row is written in the commit of its workflow or not at all: a refused commit leaves the listing as it was', async (store) => {
    const open = makeDispute('d-1', 'wf-1');
    await store.commit(makeCommit('wf-1', 1, { disputes: [open] }));
    const stale = makeCommit('wf-1', 1, { disputes: [{ ...open, status: 'withdrawn', waitingOn: null, nextDueAt: null, nextTimer: null }] });
    const foreign = makeCommit('wf-1', 2, { disputes: [makeDispute('d-2', 'wf-2')] });
    const halfDeadline = makeCommit('wf-1', 2, { disputes: [{ ...open, nextTimer: null }] });

    await expect(store.commit(stale)).rejects.toThrow(VersionConflictError);
    await expect(store.commit(foreign)).rejects.toThrow(TypeError);
    await expect(store.commit(halfDeadline)).rejects.toThrow(TypeError);

    expect(await store.queryDisputes({})).toEqual({ items: [open], nextCursor: null });
  });

  test('INV4: hostile strings as dispute ids and texts are kept and found exactly, or refused with InvalidPayloadError', async (store) => {
    let version = 0;
    for (const [name, value] of HOSTILE_STRINGS) {
      const next = version + 1;
      const row = makeDispute(`d-${next}`, 'wf-1', { merchantId: value, status: value, plan: value, nextTimer: value });
      const commit = makeCommit('wf-1', next, { disputes: [row] });
      if (isStorableId(value)) {
        await store.commit(commit);
        version = next;
        expect(await store.queryDisputes({ merchantId: value, status: [value], plan: [value] }), name).toEqual({
          items: [row],
          nextCursor: null,
        });
      } else if (!isStorable(value)) {
        const error = await rejection(store.commit(commit));
        expect(error, name).toBeInstanceOf(InvalidPayloadError);
        expect((error as InvalidPayloadError).issues[0]?.path, name).toBe('disputes[0].merchantId');
      }
    }
  });

  test('countDisputes counts per status, and per status the next deadlines due before each given time; per merchant, per customer or all', async (store) => {
    const rows = [
      makeDispute('d-1', 'wf-1', { merchantId: 'm-1', customerId: 'c-1', nextDueAt: T0 + HOUR - 1 }),
      makeDispute('d-2', 'wf-2', { merchantId: 'm-1', customerId: 'c-2', nextDueAt: T0 + HOUR }),
      makeDispute('d-3', 'wf-3', { merchantId: 'm-1', customerId: 'c-1', nextDueAt: T0 + 30 * HOUR }),
      makeDispute('d-4', 'wf-4', {
        merchantId: 'm-2',
        status: 'awaitingCustomerConfirmation',
        waitingOn: 'customer',
        nextDueAt: T0 + 2 * HOUR,
        nextTimer: 'customerConfirmationWindow',
      }),
      makeDispute('d-5', 'wf-5', { merchantId: 'm-1', status: 'resolved', waitingOn: null, nextDueAt: null, nextTimer: null }),
    ];
    for (const [index, row] of rows.entries()) await store.commit(makeCommit(`wf-${index + 1}`, 1, { disputes: [row] }));
    const windows = [T0 + HOUR, T0 + 24 * HOUR];

    expect(await store.countDisputes({}, windows)).toEqual([
      { status: 'awaitingCustomerConfirmation', count: 1, dueBefore: [0, 1] },
      { status: 'awaitingMerchantChoice', count: 3, dueBefore: [1, 2] },
      { status: 'resolved', count: 1, dueBefore: [0, 0] },
    ]);
    expect(await store.countDisputes({ merchantId: 'm-1' }, windows)).toEqual([
      { status: 'awaitingMerchantChoice', count: 3, dueBefore: [1, 2] },
      { status: 'resolved', count: 1, dueBefore: [0, 0] },
    ]);
    expect(await store.countDisputes({ customerId: 'c-1', merchantId: 'm-1' }, [])).toEqual([
      { status: 'awaitingMerchantChoice', count: 2, dueBefore: [] },
    ]);
    expect(await store.countDisputes({ merchantId: 'm-9' }, windows)).toEqual([]);
    await expect(store.countDisputes({ merchant: 'm-1' } as never, windows)).rejects.toThrow(InvalidQueryError);
    await expect(store.countDisputes({}, [Number.NaN])).rejects.toThrow(InvalidQueryError);
    await expect(
      store.countDisputes(
        {},
        Array.from({ length: 11 }, () => T0),
      ),
    ).rejects.toThrow(InvalidQueryError);
  });
}

export const STORE_CONTRACT_TEST_COUNT = countTests(contract);

/**
 * Registers the contract for one implementation. `makeStore` runs before every test (the suite calls
 * `migrate()`); after every test the store is closed, then `cleanup` runs.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<WorkflowStore>, cleanup?: () => Promise<void>): void {
  describe(`WorkflowStore contract: ${name}`, () => {
    let store: WorkflowStore | undefined;

    beforeEach(async () => {
      store = await makeStore();
      await store.migrate();
    });

    afterEach(async () => {
      await store?.close();
      store = undefined;
      await cleanup?.();
    });

    contract((title, body) =>
      it(title, async () => {
        if (!store) throw new Error('store not created');
        await body(store);
      }),
    );
  });
}
