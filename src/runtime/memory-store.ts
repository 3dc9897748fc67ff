import { DuplicateCommandError, VersionConflictError } from '../errors.js';
import { capRefusals, refusalCap, storableRefusal } from '../refusals.js';
import type {
  AuditRow,
  BatchCommitStore,
  BatchEffectStore,
  CancelOrderRow,
  Claim,
  CommandRow,
  Commit,
  DeadlineRow,
  DisputeRow,
  DisputeStatusCount,
  OutboxRow,
  Page,
  RefusalRow,
  RefusalStore,
  SyncWorkflowStore,
  WorkflowRecord,
  WorkflowStore,
} from './store.js';
import {
  assertClaim,
  assertCommandScope,
  assertCommitShape,
  auditSeqMismatch,
  cancelOrderKey,
  commandKey,
  compareCancelOrders,
  compareDeadlines,
  compareEffects,
  compareText,
  compareDisputes,
  disputeKey,
  disputeSortKey,
  isStorableKey,
  matchesDisputeQuery,
  parseCancelOrderQuery,
  parseDisputeCount,
  parseDisputeQuery,
  previousAuditSeq,
  storableFailure,
  toDisputePage,
  toPage,
  workflowColumns,
} from './store-common.js';

interface Lease {
  claimedBy: string | null;
  claimExpiresAt: number | null;
}

/**
 * Claimable when there is no lease or it expired (expiry < now). A live lease excludes its holder too,
 * so a worker polling while it still processes a batch never gets its own rows twice.
 */
function leaseFree(lease: Lease, claim: Claim): boolean {
  return lease.claimedBy === null || (lease.claimExpiresAt !== null && lease.claimExpiresAt < claim.now);
}

/** The earliest time a claim of the row can succeed: its due time, and after its lease (expiry < now). */
function claimableAt(row: DeadlineRow & Lease): number {
  if (row.claimedBy === null) return row.dueAt;
  return row.claimExpiresAt === null ? Number.POSITIVE_INFINITY : Math.max(row.dueAt, row.claimExpiresAt + 1);
}

/** JSON fields are kept as text, as the SQL stores keep them: read back, they are new objects. */
type StoredWorkflow = Omit<WorkflowRecord, 'snapshot'> & { snapshot: string };
type StoredAudit = Omit<AuditRow, 'event' | 'resultingState'> & { event: string; resultingState: string };

/** JSON round trip, as the SQL stores do: callers never share objects with the store. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null)) as T;
}

function withoutLease<T extends object>(row: T & Lease): T {
  const { claimedBy: _claimedBy, claimExpiresAt: _claimExpiresAt, ...rest } = row;
  return copy(rest as T);
}

/**
 * The in-memory store: a `WorkflowStore` whose operations also exist as synchronous calls (`sync`), so a
 * host whose `send` returns synchronously runs the same durable pipeline on it. The async methods wrap
 * the synchronous ones: both views share one state.
 */
export interface MemoryStore extends WorkflowStore, BatchCommitStore, BatchEffectStore, RefusalStore {
  readonly sync: SyncWorkflowStore;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** D9: refusals kept per workflow, the newest (default REFUSAL_LOG_DEFAULT_CAP, 100). */
  refusalLogCap?: number;
}

/** Same semantics as the SQL stores. Every method runs synchronously to completion. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const refusalLogCap = refusalCap(options.refusalLogCap);
  /** D9: each workflow's refusals as JSON text, oldest first; nothing a commit reads or writes. */
  const refusals = new Map<string, string[]>();
  const workflows = new Map<string, StoredWorkflow>();
  const deadlines = new Map<string, DeadlineRow & Lease>();
  const outbox = new Map<string, OutboxRow & Lease>();
  const audit = new Map<string, Map<number, StoredAudit>>();
  /** The deadline ids of each workflow: a commit replaces its set without scanning every deadline. */
  const deadlinesOf = new Map<string, Set<string>>();
  /** Keyed by (workflowId, cancellationId): two orders may use the same cancel-order id. */
  const cancelOrders = new Map<string, CancelOrderRow>();
  /** The dispute projection, keyed by (workflowId, disputeId). */
  const disputes = new Map<string, DisputeRow>();
  /** Keyed by (workflowId, scope, commandId). */
  const commands = new Map<string, CommandRow>();
  let highWater = 0;

  function markDone(effectId: string): void {
    const effect = outbox.get(effectId);
    if (effect) Object.assign(effect, { status: 'done', claimedBy: null, claimExpiresAt: null });
  }

  function claim<T extends object>(rows: Iterable<T & Lease>, isDue: (row: T) => boolean, order: (a: T, b: T) => number, c: Claim): T[] {
    assertClaim(c);
    if (c.limit < 1) return [];
    const claimed = [...rows]
      .filter((row) => isDue(row) && leaseFree(row, c))
      .sort(order)
      .slice(0, c.limit);
    for (const row of claimed) Object.assign(row, { claimedBy: c.workerId, claimExpiresAt: c.now + c.leaseMs });
    return claimed.map((row) => withoutLease<T>(row));
  }

  function commit(commit: Commit): void {
    const json = assertCommitShape(commit);
    const { workflowId } = commit.workflow;

    // Every check runs before the first write, so a refused commit writes nothing (INV4).
    const stored = workflows.get(workflowId);
    const actualVersion = stored?.version ?? null;
    if (actualVersion !== commit.expectedVersion) {
      throw new VersionConflictError(workflowId, commit.expectedVersion, actualVersion);
    }
    if (stored && stored.auditSeq !== previousAuditSeq(commit)) throw auditSeqMismatch(commit, stored.auditSeq);
    const { command } = commit;
    const commandAt = command && commandKey(workflowId, command.scope, command.commandId);
    if (command && commandAt && commands.has(commandAt)) throw new DuplicateCommandError(command.commandId);
    const seqs = audit.get(workflowId) ?? new Map<number, StoredAudit>();
    const newSeqs = new Set<number>();
    for (const row of commit.audit) {
      if (seqs.has(row.seq) || newSeqs.has(row.seq)) throw new Error(`audit row ${workflowId}#${row.seq} exists`);
      newSeqs.add(row.seq);
    }

    // Rows of primitives are copied by spreading; JSON fields come from the texts the check produced.
    workflows.set(workflowId, { ...workflowColumns(commit.workflow), snapshot: json.snapshot });
    highWater = Math.max(highWater, commit.observedAt);

    const kept = new Set(commit.deadlines.map((row) => row.deadlineId));
    const ids = deadlinesOf.get(workflowId) ?? new Set<string>();
    for (const id of ids) if (!kept.has(id)) deadlines.delete(id);
    for (const row of commit.deadlines) {
      const existing = deadlines.get(row.deadlineId);
      deadlines.set(row.deadlineId, {
        ...row,
        claimedBy: existing?.claimedBy ?? null,
        claimExpiresAt: existing?.claimExpiresAt ?? null,
      });
    }
    deadlinesOf.set(workflowId, kept);

    commit.audit.forEach((row, i) => {
      seqs.set(row.seq, { ...row, ...json.audit[i]! });
    });
    audit.set(workflowId, seqs);
    commit.outbox.forEach((row, i) => {
      if (outbox.has(row.effectId)) return;
      outbox.set(row.effectId, { ...row, payload: JSON.parse(json.outbox[i]!), claimedBy: null, claimExpiresAt: null });
    });
    for (const row of commit.cancelOrders) cancelOrders.set(cancelOrderKey(row), { ...row });
    for (const row of commit.disputes ?? []) disputes.set(disputeKey(row), { ...row });
    if (command && commandAt) commands.set(commandAt, { ...command, result: JSON.parse(json.commandResult!) });
    if (commit.completesEffectId !== null) markDone(commit.completesEffectId);
  }

  const sync: SyncWorkflowStore = {
    load(workflowId) {
      const workflow = isStorableKey(workflowId) ? workflows.get(workflowId) : undefined;
      return workflow && { ...workflow, snapshot: JSON.parse(workflow.snapshot) as unknown };
    },

    commit,

    commitAll(batch) {
      return batch.map((one) => {
        try {
          commit(one);
          return null;
        } catch (error) {
          return error;
        }
      });
    },

    getCommand(workflowId, scope, commandId) {
      assertCommandScope(scope);
      const command = commands.get(commandKey(workflowId, scope, commandId));
      return command && copy(command);
    },

    claimDueDeadlines(c) {
      return claim<DeadlineRow>(deadlines.values(), (row) => row.dueAt <= c.now, compareDeadlines, c);
    },

    claimOutbox(c) {
      return claim<OutboxRow>(outbox.values(), (row) => row.status === 'pending' && row.availableAt <= c.now, compareEffects, c);
    },

    extendEffectLease(effectId, workerId, expiresAt) {
      const effect = isStorableKey(effectId) ? outbox.get(effectId) : undefined;
      if (effect?.status !== 'pending' || effect.claimedBy !== workerId) return false;
      effect.claimExpiresAt = expiresAt;
      return true;
    },

    recordEffectFailure(effectId, reported) {
      const failure = storableFailure(reported);
      const effect = isStorableKey(effectId) ? outbox.get(effectId) : undefined;
      if (effect?.status !== 'pending') return;
      if (failure.workerId !== null && effect.claimedBy !== failure.workerId) return;
      Object.assign(effect, {
        attempts: effect.attempts + 1,
        lastError: failure.error,
        availableAt: failure.availableAt,
        status: failure.dead ? 'dead' : 'pending',
        claimedBy: null,
        claimExpiresAt: null,
      });
    },

    completeEffect(effectId) {
      markDone(effectId);
    },

    listDeadlines(workflowId) {
      return [...deadlines.values()]
        .filter((row) => row.workflowId === workflowId)
        .sort(compareDeadlines)
        .map((row) => withoutLease<DeadlineRow>(row));
    },

    listOutbox(workflowId) {
      return [...outbox.values()]
        .filter((row) => row.workflowId === workflowId)
        .sort((a, b) => a.createdAt - b.createdAt || compareText(a.effectId, b.effectId))
        .map((row) => withoutLease<OutboxRow>(row));
    },

    listAudit(workflowId) {
      return [...(audit.get(workflowId)?.values() ?? [])]
        .sort((a, b) => a.seq - b.seq)
        .map((row) => ({ ...row, event: JSON.parse(row.event), resultingState: JSON.parse(row.resultingState) }));
    },

    queryCancelOrders(raw): Page<CancelOrderRow> {
      const { size, after, ...query } = parseCancelOrderQuery(raw);
      const rows = [...cancelOrders.values()]
        .filter(
          (row) =>
            (query.merchantId === undefined || row.merchantId === query.merchantId) &&
            (query.customerId === undefined || row.customerId === query.customerId) &&
            (query.orderId === undefined || row.orderId === query.orderId) &&
            (query.status === undefined || query.status.includes(row.status)) &&
            (query.reason === undefined ||
              query.reason.includes(row.reason) ||
              (row.refundReason !== null && query.reason.includes(row.refundReason))) &&
            (query.createdFrom === undefined || row.createdAt >= query.createdFrom) &&
            (query.createdTo === undefined || row.createdAt < query.createdTo) &&
            (after === null || compareCancelOrders(row, after) > 0),
        )
        .sort(compareCancelOrders)
        .slice(0, size + 1)
        .map(copy);
      return toPage(rows, size);
    },

    queryDisputes(raw): Page<DisputeRow> {
      const { size, ...query } = parseDisputeQuery(raw);
      const rows = [...disputes.values()]
        .filter((row) => matchesDisputeQuery(row, { size, ...query }))
        .sort(compareDisputes)
        .slice(0, size + 1)
        .map(copy);
      return toDisputePage(rows, size);
    },

    countDisputes(rawFilter, rawDueBefore) {
      const { filter, dueBefore } = parseDisputeCount(rawFilter, rawDueBefore);
      const counts = new Map<string, DisputeStatusCount>();
      for (const row of disputes.values()) {
        if (filter.merchantId !== undefined && row.merchantId !== filter.merchantId) continue;
        if (filter.customerId !== undefined && row.customerId !== filter.customerId) continue;
        let count = counts.get(row.status);
        if (!count) counts.set(row.status, (count = { status: row.status, count: 0, dueBefore: dueBefore.map(() => 0) }));
        count.count += 1;
        dueBefore.forEach((time, i) => {
          if (disputeSortKey(row) < time) count.dueBefore[i]! += 1;
        });
      }
      return [...counts.values()].sort((a, b) => compareText(a.status, b.status));
    },

    nextDueAt() {
      let min = Number.POSITIVE_INFINITY;
      for (const row of deadlines.values()) min = Math.min(min, claimableAt(row));
      return Number.isFinite(min) ? min : null;
    },

    highWaterMark() {
      return highWater;
    },
  };

  return {
    sync,
    async migrate() {},
    async load(workflowId) {
      return sync.load(workflowId);
    },
    async commit(one) {
      sync.commit(one);
    },
    async commitAll(batch) {
      return sync.commitAll(batch);
    },
    async getCommand(workflowId, scope, commandId) {
      return sync.getCommand(workflowId, scope, commandId);
    },
    async claimDueDeadlines(c) {
      return sync.claimDueDeadlines(c);
    },
    async claimOutbox(c) {
      return sync.claimOutbox(c);
    },
    async extendEffectLease(effectId, workerId, expiresAt) {
      return sync.extendEffectLease(effectId, workerId, expiresAt);
    },
    async recordEffectFailure(effectId, failure) {
      sync.recordEffectFailure(effectId, failure);
    },
    async completeEffect(effectId) {
      sync.completeEffect(effectId);
    },
    async completeEffects(effectIds) {
      for (const effectId of effectIds) sync.completeEffect(effectId);
    },
    async listDeadlines(workflowId) {
      return sync.listDeadlines(workflowId);
    },
    async listOutbox(workflowId) {
      return sync.listOutbox(workflowId);
    },
    async listAudit(workflowId) {
      return sync.listAudit(workflowId);
    },
    async queryCancelOrders(query) {
      return sync.queryCancelOrders(query);
    },
    async queryDisputes(query) {
      return sync.queryDisputes(query);
    },
    async countDisputes(filter, dueBefore) {
      return sync.countDisputes(filter, dueBefore);
    },
    async nextDueAt() {
      return sync.nextDueAt();
    },
    async highWaterMark() {
      return sync.highWaterMark();
    },
    async recordRefusal(row) {
      const text = JSON.stringify(storableRefusal(row));
      let list = refusals.get(row.workflowId);
      if (!list) refusals.set(row.workflowId, (list = []));
      list.push(text);
      capRefusals(list, refusalLogCap);
    },
    async listRefusals(workflowId) {
      return (refusals.get(workflowId) ?? []).map((text) => JSON.parse(text) as RefusalRow);
    },
    async close() {},
  };
}
