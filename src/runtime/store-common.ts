import type { CancelOrderRow, CommandScope, Commit, DeadlineRow, OutboxRow, Page } from './store.js';

// Rules shared by every WorkflowStore implementation (memory, SQLite, PostgreSQL).

const MAX_INT32 = 2 ** 31 - 1;
const isCount = (value: unknown, min: number): value is number =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= MAX_INT32;

/**
 * Refuses a malformed commit before anything is written: every row must belong to the committed
 * workflow, an update must bump the version by exactly one, and the audit rows must number
 * `workflow.auditSeq - audit.length + 1 .. workflow.auditSeq` (for a create, 1 .. auditSeq).
 * Whether they continue the STORED auditSeq is checked by each store, in its transaction.
 */
export function assertCommitShape(commit: Commit): void {
  const { workflowId, version, machineVersion, auditSeq } = commit.workflow;
  const invalid = (detail: string) => new TypeError(`invalid commit for ${workflowId}: ${detail}`);
  if (!isCount(version, 1)) throw invalid(`version ${version}`);
  if (commit.expectedVersion !== null && version !== commit.expectedVersion + 1) {
    throw invalid(`version ${version} does not follow expectedVersion ${commit.expectedVersion}`);
  }
  if (!isCount(machineVersion, 1)) throw invalid(`machineVersion ${machineVersion}`);
  if (!isCount(auditSeq, 0)) throw invalid(`auditSeq ${auditSeq}`);
  if (!Number.isSafeInteger(commit.observedAt) || commit.observedAt < 0) throw invalid(`observedAt ${commit.observedAt}`);
  const first = previousAuditSeq(commit) + 1;
  const seqs = commit.audit.map((row) => row.seq).sort((a, b) => a - b);
  if (first < 1 || (commit.expectedVersion === null && first !== 1) || seqs.some((seq, i) => seq !== first + i)) {
    throw invalid(`audit seqs [${seqs.join(', ')}] do not end the audit trail at auditSeq ${auditSeq}`);
  }
  const foreign = [
    ...commit.audit,
    ...commit.deadlines,
    ...commit.outbox,
    ...commit.cancelOrders,
    ...(commit.command ? [commit.command] : []),
  ].find((row) => row.workflowId !== workflowId);
  if (foreign) throw invalid(`it carries a row of ${foreign.workflowId}`);
  if (commit.command) assertCommandScope(commit.command.scope);
}

export const COMMAND_SCOPES: readonly CommandScope[] = ['client', 'runtime'];

export function assertCommandScope(scope: unknown): asserts scope is CommandScope {
  if (!COMMAND_SCOPES.includes(scope as CommandScope)) throw new TypeError(`invalid command scope ${String(scope)}`);
}

/** The identity of a recorded command. */
export const commandKey = (workflowId: string, scope: CommandScope, commandId: string): string =>
  JSON.stringify([workflowId, scope, commandId]);

/** The auditSeq the stored workflow must have for this commit to continue its audit trail. */
export const previousAuditSeq = (commit: Commit): number => commit.workflow.auditSeq - commit.audit.length;

/** The commit's audit rows do not continue the stored trail: a runtime bug, never a race (the version matched). */
export const auditSeqMismatch = (commit: Commit, stored: number): TypeError =>
  new TypeError(
    `invalid commit for ${commit.workflow.workflowId}: its audit rows follow seq ${previousAuditSeq(commit)}, the stored auditSeq is ${stored}`,
  );

/** The last row per key wins, as with repeated upserts (PostgreSQL refuses duplicates in one statement). */
export function lastByKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  if (rows.length < 2) return [...rows];
  return [...new Map(rows.map((row) => [key(row), row])).values()];
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function pageSize(limit: number | undefined): number {
  const size = limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new RangeError(`page limit must be an integer in 1..${MAX_PAGE_SIZE}, got ${size}`);
  }
  return size;
}

/**
 * Keyset position of a cancel order in (createdAt, workflowId, cancellationId) order. A cancel order is
 * identified by its workflow and its id: two orders may use the same cancel-order id.
 */
export interface CancelOrderCursor {
  createdAt: number;
  workflowId: string;
  cancellationId: string;
}

export function encodeCancelOrderCursor(row: CancelOrderCursor): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.workflowId, row.cancellationId])).toString('base64url');
}

/** Decodes a cursor of this version; anything else (a cursor of an older version included) is a RangeError. */
export function decodeCancelOrderCursor(cursor: string): CancelOrderCursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    Array.isArray(decoded) &&
    decoded.length === 3 &&
    Number.isSafeInteger(decoded[0]) &&
    typeof decoded[1] === 'string' &&
    typeof decoded[2] === 'string'
  ) {
    return { createdAt: decoded[0] as number, workflowId: decoded[1], cancellationId: decoded[2] };
  }
  throw new RangeError('invalid cancel-order cursor');
}

/** Keyset order of cancel orders in every store. */
export function compareCancelOrders(a: CancelOrderCursor, b: CancelOrderCursor): number {
  return (
    a.createdAt - b.createdAt || compareText(a.workflowId, b.workflowId) || compareText(a.cancellationId, b.cancellationId)
  );
}

/** The identity of a cancel order in the X2 projection. */
export const cancelOrderKey = (row: { workflowId: string; cancellationId: string }): string =>
  JSON.stringify([row.workflowId, row.cancellationId]);

/** Builds the page from up to `size + 1` rows fetched in keyset order. */
export function toPage(rows: CancelOrderRow[], size: number): Page<CancelOrderRow> {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > size && last ? encodeCancelOrderCursor(last) : null };
}

/** Text order of ids in every store: code units, which is byte order for ASCII ids (SQL `COLLATE "C"`). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareDeadlines(a: DeadlineRow, b: DeadlineRow): number {
  return a.dueAt - b.dueAt || compareText(a.deadlineId, b.deadlineId);
}

export function compareEffects(a: OutboxRow, b: OutboxRow): number {
  return a.availableAt - b.availableAt || a.createdAt - b.createdAt || compareText(a.effectId, b.effectId);
}
