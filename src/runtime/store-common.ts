import * as z from 'zod';
import { persistedText } from '../engine/step.js';
import { InvalidPayloadError, InvalidQueryError } from '../errors.js';
import { isStorableText, sanitizeText, Text, TEXT_RULE_MESSAGE } from '../schemas/text.js';
import type {
  CancelOrderQuery,
  CancelOrderRow,
  Claim,
  CommandScope,
  Commit,
  DeadlineRow,
  DisputeCountFilter,
  DisputeQuery,
  DisputeRow,
  EffectFailure,
  OutboxRow,
  Page,
  WorkflowHeader,
} from './store.js';

// Rules shared by every WorkflowStore implementation (memory, SQLite, PostgreSQL).

const MAX_INT32 = 2 ** 31 - 1;
const isCount = (value: unknown, min: number): value is number =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= MAX_INT32;

/**
 * Refuses a malformed commit before anything is written: every row must belong to the committed
 * workflow, an update must bump the version by exactly one, and the audit rows must number
 * `workflow.auditSeq - audit.length + 1 .. workflow.auditSeq` (for a create, 1 .. auditSeq).
 * Whether they continue the STORED auditSeq is checked by each store, in its transaction.
 * Returns the JSON text of every JSON field, checked under the string rule, for the store to write.
 */
export function assertCommitShape(commit: Commit): CommitJson {
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
    ...(commit.disputes ?? []),
    ...(commit.command ? [commit.command] : []),
  ].find((row) => row.workflowId !== workflowId);
  if (foreign) throw invalid(`it carries a row of ${foreign.workflowId}`);
  if (commit.command) assertCommandScope(commit.command.scope);
  return storableJson(commit);
}

/**
 * Ids are primary-key and index columns: PostgreSQL refuses an index entry above ~2.7 kB, and the X2
 * indexes hold three ids. 512 UTF-8 bytes each keeps every key well inside, on every store alike.
 */
export const MAX_KEY_BYTES = 512;

/** An id that some store could hold: storable text of at most MAX_KEY_BYTES. Any other id was never stored. */
export const isStorableKey = (value: unknown): value is string =>
  typeof value === 'string' && isStorableText(value) && Buffer.byteLength(value, 'utf8') <= MAX_KEY_BYTES;

type Field = 'key' | 'text' | 'int' | 'json';
/** The string, number and JSON fields of each row, checked alike by every store. `?` marks nullable. */
type Fields = Record<string, Field | `${Field}?`>;
const WORKFLOW_FIELDS = {
  workflowId: 'key',
  orderId: 'key',
  merchantId: 'key',
  status: 'text',
  snapshot: 'json',
  lastEventAt: 'int',
  createdAt: 'int',
  updatedAt: 'int',
} as const satisfies Fields;
const AUDIT_FIELDS = {
  role: 'text',
  actorId: 'text',
  eventType: 'text',
  event: 'json',
  resultingState: 'json',
  commandId: 'text?',
  at: 'int',
} as const satisfies Fields;
const DEADLINE_FIELDS = { deadlineId: 'key', actorPath: 'text', timer: 'text', eventType: 'text', dueAt: 'int' } as const satisfies Fields;
const OUTBOX_FIELDS = {
  effectId: 'key',
  kind: 'text',
  idempotencyKey: 'text',
  payload: 'json',
  status: 'text',
  lastError: 'text?',
  availableAt: 'int',
  createdAt: 'int',
  attempts: 'int',
} as const satisfies Fields;
const CANCEL_ORDER_FIELDS = {
  cancellationId: 'key',
  orderId: 'key',
  merchantId: 'key',
  customerId: 'key',
  status: 'text',
  reason: 'text',
  refundReason: 'text?',
  origin: 'text',
  refundTriggerKind: 'text?',
  createdAt: 'int',
  updatedAt: 'int',
} as const satisfies Fields;
const DISPUTE_FIELDS = {
  disputeId: 'key',
  orderId: 'key',
  merchantId: 'key',
  customerId: 'key',
  status: 'text',
  plan: 'text?',
  waitingOn: 'text?',
  nextDueAt: 'int?',
  nextTimer: 'text?',
  openedAt: 'int',
  updatedAt: 'int',
} as const satisfies Fields;
const COMMAND_FIELDS = { commandId: 'key', payloadHash: 'text', result: 'json', at: 'int' } as const satisfies Fields;

/** The path of the first string under `value` (keys included) that breaks the string rule, or null. */
function unstorableIn(value: unknown, path: string): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableIn(item, `${path}[${index}]`);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isStorableText(key)) return `${path}.<key>`;
    const found = unstorableIn(item, `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/**
 * A NUL or an unpaired surrogate in a string becomes a `\u0000` / `\udXXX` escape in JSON.stringify's
 * text (it escapes nothing else that way but control characters, and never a paired surrogate); the
 * escape counts only after an even run of backslashes.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/;

/** The JSON text of a value, or InvalidPayloadError naming the first string that breaks the string rule. */
export function jsonText(value: unknown, path: string): string {
  // A snapshot straight from LiveSystem.persist: its text is known.
  const known = value !== null && typeof value === 'object' ? persistedText.get(value) : undefined;
  return checkedText(known ?? JSON.stringify(value ?? null), () => value, path);
}

/** `text` (the JSON of `value()`), or InvalidPayloadError naming the first string that breaks the string rule. */
function checkedText(text: string, value: () => unknown, path: string): string {
  if (text.includes('\\u') && UNSTORABLE_ESCAPE.test(text)) {
    throw new InvalidPayloadError([{ path: unstorableIn(value(), path) ?? path, message: TEXT_RULE_MESSAGE }]);
  }
  return text;
}

/** The snapshot text of a commit's workflow row built by `withSnapshotText`, while its snapshot is unchanged. */
const snapshotTexts = new WeakMap<object, string>();

/**
 * Gives a commit's workflow row the snapshot whose JSON text is `text`, parsed only when something
 * reads it: the stores write the text as it is (SQLite and PostgreSQL never parse it). Setting
 * `snapshot` replaces it (and the text is forgotten).
 */
export function withSnapshotText<T extends object>(row: T, text: string): T & { snapshot: unknown } {
  let parsed: { value: unknown } | undefined;
  const replace = (value: unknown) => {
    snapshotTexts.delete(row);
    Object.defineProperty(row, 'snapshot', { value, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(row, 'snapshot', {
    enumerable: true,
    configurable: true,
    get() {
      if (!parsed) {
        parsed = { value: JSON.parse(text) as unknown };
        if (parsed.value !== null && typeof parsed.value === 'object') persistedText.set(parsed.value, text);
      }
      return parsed.value;
    },
    set: replace,
  });
  snapshotTexts.set(row, text);
  return row as T & { snapshot: unknown };
}

/** A commit's workflow row without its snapshot, each field read on its own (a spread would parse a lazy snapshot). */
export function workflowColumns(workflow: WorkflowHeader): WorkflowHeader {
  return {
    workflowId: workflow.workflowId,
    orderId: workflow.orderId,
    merchantId: workflow.merchantId,
    version: workflow.version,
    machineVersion: workflow.machineVersion,
    auditSeq: workflow.auditSeq,
    status: workflow.status,
    lastEventAt: workflow.lastEventAt,
    createdAt: workflow.createdAt,
    updatedAt: workflow.updatedAt,
  };
}

/** Checks a row's fields; returns the JSON text of its JSON fields. */
function checkRow(row: object, fields: Fields, path: string, workflowId: string): Record<string, string> {
  const values = row as Record<string, unknown>;
  const texts: Record<string, string> = {};
  for (const [name, declared] of Object.entries(fields)) {
    const nullable = declared.endsWith('?');
    const kind = nullable ? declared.slice(0, -1) : declared;
    const at = `${path}.${name}`;
    if (kind === 'json') {
      // A snapshot given as text (withSnapshotText) is checked as text; it is parsed only to name a bad string.
      const known = name === 'snapshot' ? snapshotTexts.get(row) : undefined;
      texts[name] = known === undefined ? jsonText(values[name], at) : checkedText(known, () => values[name], at);
      continue;
    }
    const value = values[name];
    if (nullable && value === null) continue;
    if (kind === 'int') {
      if (!Number.isSafeInteger(value)) throw new TypeError(`invalid commit for ${workflowId}: ${at} ${String(value)}`);
      continue;
    }
    if (typeof value !== 'string') throw new TypeError(`invalid commit for ${workflowId}: ${at} is not a string`);
    if (!isStorableText(value)) throw new InvalidPayloadError([{ path: at, message: TEXT_RULE_MESSAGE }]);
    if (kind === 'key' && !isStorableKey(value)) {
      throw new InvalidPayloadError([{ path: at, message: `ids are at most ${MAX_KEY_BYTES} bytes (UTF-8)` }]);
    }
  }
  return texts;
}

/** The JSON text of each JSON field of a commit, in the order of its rows. */
export interface CommitJson {
  snapshot: string;
  audit: Array<{ event: string; resultingState: string }>;
  outbox: string[];
  commandResult: string | null;
}

/**
 * Every store keeps exactly what it is given, or refuses it the same way: text under the string rule
 * (`InvalidPayloadError`, nothing written), ids of at most MAX_KEY_BYTES, times as safe integers.
 * Serialises each JSON field once, for the check and for the write.
 */
function storableJson(commit: Commit): CommitJson {
  const { workflowId } = commit.workflow;
  const snapshot = checkRow(commit.workflow, WORKFLOW_FIELDS, 'workflow', workflowId).snapshot!;
  const audit = commit.audit.map((row, i) => {
    const texts = checkRow(row, AUDIT_FIELDS, `audit[${i}]`, workflowId);
    return { event: texts.event!, resultingState: texts.resultingState! };
  });
  commit.deadlines.forEach((row, i) => {
    checkRow(row, DEADLINE_FIELDS, `deadlines[${i}]`, workflowId);
  });
  const outbox = commit.outbox.map((row, i) => checkRow(row, OUTBOX_FIELDS, `outbox[${i}]`, workflowId).payload!);
  commit.cancelOrders.forEach((row, i) => {
    checkRow(row, CANCEL_ORDER_FIELDS, `cancelOrders[${i}]`, workflowId);
  });
  (commit.disputes ?? []).forEach((row, i) => {
    checkRow(row, DISPUTE_FIELDS, `disputes[${i}]`, workflowId);
    if ((row.nextDueAt === null) !== (row.nextTimer === null)) {
      throw new TypeError(`invalid commit for ${workflowId}: disputes[${i}] has a due time without its timer, or a timer without its due time`);
    }
    if (row.nextDueAt !== null && (row.nextDueAt < 0 || row.nextDueAt >= NO_DEADLINE)) {
      throw new TypeError(`invalid commit for ${workflowId}: disputes[${i}].nextDueAt ${row.nextDueAt}`);
    }
  });
  const commandResult = commit.command ? checkRow(commit.command, COMMAND_FIELDS, 'command', workflowId).result! : null;
  if (commit.completesEffectId !== null) {
    checkRow({ completesEffectId: commit.completesEffectId }, { completesEffectId: 'key' }, 'commit', workflowId);
  }
  return { snapshot, audit, outbox, commandResult };
}

/** A claim is the runtime's own: a malformed one is a bug (TypeError), refused before it leases anything. */
export function assertClaim(claim: Claim): void {
  if (!isStorableKey(claim.workerId)) throw new TypeError(`invalid claim: workerId ${JSON.stringify(claim.workerId)}`);
  for (const name of ['now', 'leaseMs', 'limit'] as const) {
    if (!Number.isSafeInteger(claim[name])) throw new TypeError(`invalid claim: ${name} ${String(claim[name])}`);
  }
}

/** An effect failure as every store keeps it: the error text made storable (it is an adapter's), a safe time. */
export function storableFailure(failure: EffectFailure) {
  if (!Number.isSafeInteger(failure.availableAt)) throw new TypeError(`invalid availableAt ${failure.availableAt}`);
  const { workerId } = failure;
  if (workerId !== undefined && !isStorableKey(workerId)) throw new TypeError('invalid workerId');
  return {
    error: sanitizeText(String(failure.error)),
    availableAt: failure.availableAt,
    dead: failure.dead === true,
    workerId: workerId ?? null,
  };
}

export const COMMAND_SCOPES: readonly CommandScope[] = ['client', 'runtime'];

export function assertCommandScope(scope: unknown): asserts scope is CommandScope {
  if (!COMMAND_SCOPES.includes(scope as CommandScope)) throw new TypeError(`invalid command scope ${String(scope)}`);
}

/** The identity of a recorded command. */
export const commandKey = (workflowId: string, scope: CommandScope, commandId: string): string => JSON.stringify([workflowId, scope, commandId]);

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
/** Most values one status or reason filter may list. */
export const MAX_FILTER_VALUES = 50;

const FilterValue = Text.refine((value) => Buffer.byteLength(value, 'utf8') <= MAX_KEY_BYTES, {
  message: `at most ${MAX_KEY_BYTES} bytes (UTF-8)`,
});
// zod checks an array's length before it parses its elements: a huge list costs nothing.
const FilterValues = z.array(FilterValue).max(MAX_FILTER_VALUES);
const QueryTime = z.number().int().min(0).max(8_640_000_000_000_000);

/**
 * X2: the cancel-order query, as every store reads it. Strict: an unknown or misspelled filter is an
 * error, never silently ignored. A status or reason filter is a list (an empty list matches nothing).
 */
export const CancelOrderQuerySchema = z.strictObject({
  merchantId: FilterValue.optional(),
  customerId: FilterValue.optional(),
  orderId: FilterValue.optional(),
  status: FilterValues.optional(),
  reason: FilterValues.optional(),
  createdFrom: QueryTime.optional(),
  createdTo: QueryTime.optional(),
  limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  cursor: z.string().max(4096).nullable().optional(),
}) satisfies z.ZodType<CancelOrderQuery>;

/** A query every store can run: the filters as given, the page size, and the keyset position to continue after. */
export interface ParsedCancelOrderQuery extends Omit<CancelOrderQuery, 'limit' | 'cursor'> {
  size: number;
  after: CancelOrderCursor | null;
}

/** Parses an X2 query (from a host: anything) or throws `InvalidQueryError` listing every issue. */
export function parseCancelOrderQuery(query: unknown): ParsedCancelOrderQuery {
  const parsed = CancelOrderQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new InvalidQueryError(parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));
  }
  const { limit, cursor, ...filters } = parsed.data;
  const after = cursor ? decodeCancelOrderCursor(cursor) : null;
  if (cursor !== undefined && cursor !== null && after === null) {
    throw new InvalidQueryError([{ path: 'cursor', message: 'not a cursor this store returned' }]);
  }
  return { ...filters, size: limit ?? DEFAULT_PAGE_SIZE, after };
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

/** An opaque cursor's JSON value, or undefined when it is not one. */
function readCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Decodes a cursor of this version; anything else (a cursor of an older version included) is null. */
export function decodeCancelOrderCursor(cursor: string): CancelOrderCursor | null {
  const decoded = readCursor(cursor);
  if (
    Array.isArray(decoded) &&
    decoded.length === 3 &&
    Number.isSafeInteger(decoded[0]) &&
    isStorableKey(decoded[1]) &&
    isStorableKey(decoded[2])
  ) {
    return { createdAt: decoded[0] as number, workflowId: decoded[1], cancellationId: decoded[2] };
  }
  return null;
}

/** Keyset order of cancel orders in every store. */
export function compareCancelOrders(a: CancelOrderCursor, b: CancelOrderCursor): number {
  return a.createdAt - b.createdAt || compareText(a.workflowId, b.workflowId) || compareText(a.cancellationId, b.cancellationId);
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

/**
 * Text order of ids in every store: code point order, which is UTF-8 byte order (SQLite's BINARY,
 * PostgreSQL's `COLLATE "C"`). JavaScript's `<` compares UTF-16 code units, which puts U+E000..U+FFFF
 * after every supplementary character (an emoji): the units are shifted to restore code point order.
 */
export function compareText(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

const codePointRank = (unit: number): number => (unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);

export function compareDeadlines(a: DeadlineRow, b: DeadlineRow): number {
  return a.dueAt - b.dueAt || compareText(a.deadlineId, b.deadlineId);
}

export function compareEffects(a: OutboxRow, b: OutboxRow): number {
  return a.availableAt - b.availableAt || a.createdAt - b.createdAt || compareText(a.effectId, b.effectId);
}

// --- the dispute listing --------------------------------------------------------------------------

/**
 * The sort key of a dispute without a pending deadline: after every time a deadline can have (the
 * largest Timestamp), so those disputes come last and the key is never null (one index order, one keyset).
 */
export const NO_DEADLINE = 8_640_000_000_000_000;

/** A dispute's place in the listing order: next deadline (NO_DEADLINE when none), workflow, dispute. */
export const disputeSortKey = (row: Pick<DisputeRow, 'nextDueAt'>): number => row.nextDueAt ?? NO_DEADLINE;

/** The dispute listing query, strict like the X2 one: an unknown filter is an error, never ignored. */
export const DisputeQuerySchema = z.strictObject({
  merchantId: FilterValue.optional(),
  customerId: FilterValue.optional(),
  orderId: FilterValue.optional(),
  status: FilterValues.optional(),
  plan: FilterValues.optional(),
  waitingOn: FilterValues.optional(),
  dueFrom: QueryTime.optional(),
  dueBefore: QueryTime.optional(),
  limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  cursor: z.string().max(4096).nullable().optional(),
}) satisfies z.ZodType<DisputeQuery>;

/** Keyset position of a dispute in the listing order. */
export interface DisputeCursor {
  dueSort: number;
  workflowId: string;
  disputeId: string;
}

/**
 * A dispute query every store can run: its filters, the page size, where to continue, and the due
 * range as sort keys (`dueFrom`..`dueBefore`, with no-deadline rows left out when either is given).
 */
export interface ParsedDisputeQuery extends Omit<DisputeQuery, 'limit' | 'cursor' | 'dueFrom' | 'dueBefore'> {
  size: number;
  after: DisputeCursor | null;
  dueFrom: number | undefined;
  dueBefore: number | undefined;
}

const invalidQuery = (error: z.ZodError) =>
  new InvalidQueryError(error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));

/** Parses a dispute query (from a host: anything) or throws `InvalidQueryError` listing every issue. */
export function parseDisputeQuery(query: unknown): ParsedDisputeQuery {
  const parsed = DisputeQuerySchema.safeParse(query);
  if (!parsed.success) throw invalidQuery(parsed.error);
  const { limit, cursor, dueFrom, dueBefore, ...filters } = parsed.data;
  const after = cursor ? decodeDisputeCursor(cursor) : null;
  if (cursor !== undefined && cursor !== null && after === null) {
    throw new InvalidQueryError([{ path: 'cursor', message: 'not a cursor this store returned' }]);
  }
  const ranged = dueFrom !== undefined || dueBefore !== undefined;
  return {
    ...filters,
    size: limit ?? DEFAULT_PAGE_SIZE,
    after,
    dueFrom,
    dueBefore: ranged ? Math.min(dueBefore ?? NO_DEADLINE, NO_DEADLINE) : undefined,
  };
}

export function encodeDisputeCursor(row: DisputeCursor): string {
  return Buffer.from(JSON.stringify(['dispute', row.dueSort, row.workflowId, row.disputeId])).toString('base64url');
}

/** Decodes a dispute cursor; anything else (a cancel-order cursor included) is null. */
export function decodeDisputeCursor(cursor: string): DisputeCursor | null {
  const decoded = readCursor(cursor);
  if (
    Array.isArray(decoded) &&
    decoded.length === 4 &&
    decoded[0] === 'dispute' &&
    Number.isSafeInteger(decoded[1]) &&
    isStorableKey(decoded[2]) &&
    isStorableKey(decoded[3])
  ) {
    return { dueSort: decoded[1] as number, workflowId: decoded[2], disputeId: decoded[3] };
  }
  return null;
}

const cursorOfDispute = (row: DisputeRow): DisputeCursor => ({
  dueSort: disputeSortKey(row),
  workflowId: row.workflowId,
  disputeId: row.disputeId,
});

/** Listing order of disputes in every store. */
export function compareDisputes(a: DisputeRow, b: DisputeRow): number {
  return compareDisputeCursors(cursorOfDispute(a), cursorOfDispute(b));
}

export function compareDisputeCursors(a: DisputeCursor, b: DisputeCursor): number {
  return a.dueSort - b.dueSort || compareText(a.workflowId, b.workflowId) || compareText(a.disputeId, b.disputeId);
}

/** The identity of a dispute in its projection. */
export const disputeKey = (row: { workflowId: string; disputeId: string }): string => JSON.stringify([row.workflowId, row.disputeId]);

/** Builds the page from up to `size + 1` disputes fetched in listing order. */
export function toDisputePage(rows: DisputeRow[], size: number): Page<DisputeRow> {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > size && last ? encodeDisputeCursor(cursorOfDispute(last)) : null };
}

/** Whether a dispute row matches a parsed query (the memory store's filter; the SQL stores say it in SQL). */
export function matchesDisputeQuery(row: DisputeRow, query: ParsedDisputeQuery): boolean {
  const due = disputeSortKey(row);
  return (
    (query.merchantId === undefined || row.merchantId === query.merchantId) &&
    (query.customerId === undefined || row.customerId === query.customerId) &&
    (query.orderId === undefined || row.orderId === query.orderId) &&
    (query.status === undefined || query.status.includes(row.status)) &&
    (query.plan === undefined || (row.plan !== null && query.plan.includes(row.plan))) &&
    (query.waitingOn === undefined || (row.waitingOn !== null && query.waitingOn.includes(row.waitingOn))) &&
    (query.dueFrom === undefined || due >= query.dueFrom) &&
    (query.dueBefore === undefined || due < query.dueBefore) &&
    (query.after === null || compareDisputeCursors(cursorOfDispute(row), query.after) > 0)
  );
}

/** Most due times one count may ask about. */
export const MAX_DUE_TIMES = 10;

const DisputeCountSchema = z.strictObject({
  filter: z.strictObject({ merchantId: FilterValue.optional(), customerId: FilterValue.optional() }),
  dueBefore: z.array(QueryTime).max(MAX_DUE_TIMES),
});

/** Parses a count request or throws `InvalidQueryError`. */
export function parseDisputeCount(filter: unknown, dueBefore: unknown): { filter: DisputeCountFilter; dueBefore: number[] } {
  const parsed = DisputeCountSchema.safeParse({ filter, dueBefore });
  if (!parsed.success) throw invalidQuery(parsed.error);
  return parsed.data;
}
