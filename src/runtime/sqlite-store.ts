import type Database from 'better-sqlite3';
import { DuplicateCommandError, StoreUnavailableError, VersionConflictError } from '../errors.js';
import { loadBetterSqlite3 } from './optional-peers.js';
import {
  assertClaim,
  assertCommandScope,
  assertCommitShape,
  auditSeqMismatch,
  type CommitJson,
  compareDeadlines,
  compareEffects,
  disputeSortKey,
  isStorableKey,
  NO_DEADLINE,
  parseCancelOrderQuery,
  parseDisputeCount,
  parseDisputeQuery,
  type ParsedDisputeQuery,
  previousAuditSeq,
  storableFailure,
  toDisputePage,
  toPage,
  workflowColumns,
} from './store-common.js';
import type {
  AuditRow,
  BatchCommitStore,
  BatchEffectStore,
  CancelOrderQuery,
  CancelOrderRow,
  Claim,
  CommandRow,
  Commit,
  DeadlineRow,
  DisputeRow,
  DisputeStatusCount,
  LookupStore,
  OutboxRow,
  RefusalRow,
  RefusalStore,
  WorkflowHeader,
  WorkflowRecord,
  WorkflowStore,
} from './store.js';
import { refusalCap, storableRefusal } from '../refusals.js';

/** Options of {@link createSqliteStore}: the database file and its pragmas. */
export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  filename: string;
  /**
   * How long an operation waits, in total, for a lock another connection or process holds on the file
   * before it fails with StoreUnavailableError (SQLITE_BUSY). Default 5,000 ms.
   */
  busyTimeoutMs?: number;
  /**
   * better-sqlite3 is synchronous: while SQLite waits for a lock, the whole process waits. The store
   * therefore lets SQLite wait at most this long at a time, then yields to the event loop and retries
   * (1, 2, 4 … 50 ms apart) until busyTimeoutMs is spent. Default 10 ms. Opening the file (once, in
   * createSqliteStore) may still wait up to busyTimeoutMs.
   */
  busySliceMs?: number;
  /** D9: refusals kept per workflow, the newest (default REFUSAL_LOG_DEFAULT_CAP, 100). */
  refusalLogCap?: number;
}

export const SQLITE_STORE_DEFAULTS = { busyTimeoutMs: 5_000, busySliceMs: 10 } as const;

/**
 * SQLite result codes that mean "the store is not available right now": a lock held elsewhere (BUSY,
 * LOCKED), a full disk or an I/O error, a file that cannot be opened, no memory, a WAL in recovery.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|NOMEM|PROTOCOL|READONLY_(RECOVERY|CANTLOCK|DBMOVED|ROLLBACK))/;
const CONTENDED = /^SQLITE_(BUSY|LOCKED)/;

const sqliteCode = (error: unknown): string | null => {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
};

/** The one typed, retryable error for a store that is not available; any other error as it is. */
export function sqliteStoreError(error: unknown, operation: string): unknown {
  const code = sqliteCode(error);
  return code && UNAVAILABLE.test(code) ? new StoreUnavailableError('sqlite', operation, code, { cause: error }) : error;
}

/**
 * Fills the columns and rows migration 7 adds from the stored workflows (machine version 2 snapshots):
 * what the unit of work writes for every later commit. Statuses map to whose move it is as the dispute
 * machine's state tags do.
 */
export const SQLITE_PROJECTION_BACKFILL = `
  UPDATE cancel_orders SET
    customer_id = COALESCE((SELECT json_extract(w.snapshot, '$.context.customerId') FROM workflows AS w
                            WHERE w.workflow_id = cancel_orders.workflow_id), ''),
    refund_reason = CASE WHEN refund_trigger_kind IS NULL THEN NULL
                         WHEN refund_trigger_kind = 'platformRuling' THEN 'PLATFORM_RULING_REFUND' ELSE reason END;
  INSERT OR REPLACE INTO disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
    next_due_at, next_timer, due_sort, opened_at, updated_at)
  SELECT w.workflow_id, json_extract(d.value, '$.disputeId'), w.order_id, w.merchant_id,
    COALESCE(json_extract(w.snapshot, '$.context.customerId'), ''), json_extract(d.value, '$.status'),
    json_extract(d.value, '$.plan'), NULL, NULL, NULL, ${NO_DEADLINE}, json_extract(d.value, '$.openedAt'), w.last_event_at
  FROM workflows AS w, json_each(w.snapshot, '$.context.closedDisputes') AS d;
  INSERT OR REPLACE INTO disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
    next_due_at, next_timer, due_sort, opened_at, updated_at)
  SELECT o.workflow_id, o.dispute_id, o.order_id, o.merchant_id, o.customer_id, o.status, o.plan,
    CASE o.status WHEN 'awaitingMerchantChoice' THEN 'merchant' WHEN 'awaitingCustomerConfirmation' THEN 'customer'
                  WHEN 'awaitingPlatformRuling' THEN 'platform' END,
    n.due_at, n.timer, COALESCE(n.due_at, ${NO_DEADLINE}), o.opened_at, o.updated_at
  FROM (SELECT w.workflow_id, json_extract(w.snapshot, '$.context.dispute.disputeId') AS dispute_id, w.order_id,
          w.merchant_id, COALESCE(json_extract(w.snapshot, '$.context.customerId'), '') AS customer_id,
          json_extract(w.snapshot, '$.children.dispute.snapshot.value') AS status,
          json_extract(w.snapshot, '$.children.dispute.snapshot.context.plan') AS plan,
          json_extract(w.snapshot, '$.context.dispute.openedAt') AS opened_at, w.last_event_at AS updated_at
        FROM workflows AS w
        WHERE json_type(w.snapshot, '$.context.dispute') = 'object'
          AND json_type(w.snapshot, '$.children.dispute.snapshot.value') = 'text') AS o
  LEFT JOIN (SELECT workflow_id, timer, MIN(due_at) AS due_at FROM deadlines WHERE actor_path = 'dispute'
             GROUP BY workflow_id) AS n ON n.workflow_id = o.workflow_id;
`;

/** Schema migrations; `PRAGMA user_version` is the number applied. Append only, never edit. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE workflows (
    workflow_id   TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL,
    merchant_id   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    snapshot      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'done')),
    last_event_at INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  ) STRICT;

  -- Clustered by workflow (commits read and rewrite a workflow's set); deadline ids embed the workflow id.
  CREATE TABLE deadlines (
    workflow_id      TEXT NOT NULL REFERENCES workflows (workflow_id),
    deadline_id      TEXT NOT NULL,
    actor_path       TEXT NOT NULL,
    timer            TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    due_at           INTEGER NOT NULL,
    claimed_by       TEXT,
    claim_expires_at INTEGER,
    PRIMARY KEY (workflow_id, deadline_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX deadlines_due ON deadlines (due_at, deadline_id);

  CREATE TABLE outbox (
    effect_id        TEXT PRIMARY KEY,
    workflow_id      TEXT NOT NULL REFERENCES workflows (workflow_id),
    kind             TEXT NOT NULL CHECK (kind IN ('refund', 'interception', 'notification')),
    idempotency_key  TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'done', 'dead')),
    attempts         INTEGER NOT NULL,
    available_at     INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    claimed_by       TEXT,
    claim_expires_at INTEGER
  ) STRICT;
  CREATE INDEX outbox_pending ON outbox (available_at, created_at, effect_id) WHERE status = 'pending';
  CREATE INDEX outbox_workflow ON outbox (workflow_id, created_at, effect_id);

  CREATE TABLE audit (
    workflow_id     TEXT NOT NULL REFERENCES workflows (workflow_id),
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    role            TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    event           TEXT NOT NULL,
    resulting_state TEXT NOT NULL,
    command_id      TEXT,
    PRIMARY KEY (workflow_id, seq)
  ) STRICT;

  CREATE TABLE cancel_orders (
    cancellation_id     TEXT PRIMARY KEY,
    workflow_id         TEXT NOT NULL REFERENCES workflows (workflow_id),
    order_id            TEXT NOT NULL,
    merchant_id         TEXT NOT NULL,
    status              TEXT NOT NULL,
    reason              TEXT NOT NULL,
    origin              TEXT NOT NULL,
    refund_trigger_kind TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX cancel_orders_created ON cancel_orders (created_at, cancellation_id);
  CREATE INDEX cancel_orders_merchant ON cancel_orders (merchant_id, created_at, cancellation_id);
  CREATE INDEX cancel_orders_order ON cancel_orders (order_id, created_at, cancellation_id);

  CREATE TABLE commands (
    command_id   TEXT PRIMARY KEY,
    workflow_id  TEXT NOT NULL REFERENCES workflows (workflow_id),
    payload_hash TEXT NOT NULL,
    result       TEXT NOT NULL,
    at           INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: the X2 projection is keyed by (workflow_id, cancellation_id): two orders may use the same
  // cancel-order id. SQLite cannot change a primary key in place: the table is rebuilt.
  `
  CREATE TABLE cancel_orders_v2 (
    workflow_id         TEXT NOT NULL REFERENCES workflows (workflow_id),
    cancellation_id     TEXT NOT NULL,
    order_id            TEXT NOT NULL,
    merchant_id         TEXT NOT NULL,
    status              TEXT NOT NULL,
    reason              TEXT NOT NULL,
    origin              TEXT NOT NULL,
    refund_trigger_kind TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, cancellation_id)
  ) STRICT;
  INSERT INTO cancel_orders_v2 (workflow_id, cancellation_id, order_id, merchant_id, status, reason, origin,
    refund_trigger_kind, created_at, updated_at)
  SELECT workflow_id, cancellation_id, order_id, merchant_id, status, reason, origin, refund_trigger_kind,
    created_at, updated_at
  FROM cancel_orders;
  DROP TABLE cancel_orders;
  ALTER TABLE cancel_orders_v2 RENAME TO cancel_orders;
  CREATE INDEX cancel_orders_created ON cancel_orders (created_at, workflow_id, cancellation_id);
  CREATE INDEX cancel_orders_merchant ON cancel_orders (merchant_id, created_at, workflow_id, cancellation_id);
  CREATE INDEX cancel_orders_order ON cancel_orders (order_id, created_at, workflow_id, cancellation_id);
  `,
  // 3: a workflow records the version of the machine that wrote its snapshot (rows written before
  // versioning were written by machine version 1) and the seq of its last audit row.
  `
  ALTER TABLE workflows ADD COLUMN machine_version INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE workflows ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;
  UPDATE workflows SET audit_seq = COALESCE((SELECT MAX(seq) FROM audit WHERE audit.workflow_id = workflows.workflow_id), 0);
  `,
  // 4: command ids are unique per (workflow, scope): a client's ids and the runtime's own records live in
  // separate namespaces. The runtime's earlier records are the ones it named after their own workflow
  // (open:<workflowId>, effect:<effectId>, effect ids start with '<workflowId>|'); they keep their ids.
  `
  CREATE TABLE commands_v4 (
    workflow_id  TEXT NOT NULL REFERENCES workflows (workflow_id),
    scope        TEXT NOT NULL CHECK (scope IN ('client', 'runtime')),
    command_id   TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    result       TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, scope, command_id)
  ) STRICT;
  INSERT INTO commands_v4 (workflow_id, scope, command_id, payload_hash, result, at)
  SELECT workflow_id,
    CASE WHEN command_id = 'open:' || workflow_id
      OR substr(command_id, 1, length(workflow_id) + 8) = 'effect:' || workflow_id || '|'
    THEN 'runtime' ELSE 'client' END,
    command_id, payload_hash, result, at
  FROM commands;
  DROP TABLE commands;
  ALTER TABLE commands_v4 RENAME TO commands;
  `,
  // 5: the clock's high-water mark. Each workflow keeps the highest runtime clock reading of its commits
  // (its updated_at so far); the mark is their maximum, one index seek.
  `
  ALTER TABLE workflows ADD COLUMN observed_at INTEGER NOT NULL DEFAULT 0;
  UPDATE workflows SET observed_at = updated_at;
  CREATE INDEX workflows_observed ON workflows (observed_at);
  `,
  // 6: in its own scope the runtime records the opening of a workflow as 'open' (the workflow is in the
  // key): earlier openings, 'open:<workflowId>', are renamed, so reopening an old workflow with the same
  // input still answers the first result.
  `
  UPDATE commands SET command_id = 'open'
  WHERE scope = 'runtime' AND command_id = 'open:' || workflow_id
    AND NOT EXISTS (SELECT 1 FROM commands AS c
                    WHERE c.workflow_id = commands.workflow_id AND c.scope = 'runtime' AND c.command_id = 'open');
  `,
  // 7: the work queues. Cancel orders carry their customer (R1: a customer lists its own) and why they
  // were refunded (D6/X2); the dispute projection lists every dispute with whose move it is and its next
  // deadline, indexed so that a party's queue is one index range scan. Both are filled from the stored
  // workflows (a dispute's deadline from the deadlines table, whose move it is from its status).
  `
  ALTER TABLE cancel_orders ADD COLUMN customer_id TEXT NOT NULL DEFAULT '';
  ALTER TABLE cancel_orders ADD COLUMN refund_reason TEXT;
  CREATE INDEX cancel_orders_customer ON cancel_orders (customer_id, created_at, workflow_id, cancellation_id);

  CREATE TABLE disputes (
    workflow_id TEXT NOT NULL REFERENCES workflows (workflow_id),
    dispute_id  TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    plan        TEXT,
    waiting_on  TEXT,
    next_due_at INTEGER,
    next_timer  TEXT,
    due_sort    INTEGER NOT NULL,
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, dispute_id)
  ) STRICT;
  CREATE INDEX disputes_merchant_queue ON disputes (merchant_id, waiting_on, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_merchant ON disputes (merchant_id, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_customer ON disputes (customer_id, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_queue ON disputes (waiting_on, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_due ON disputes (due_sort, workflow_id, dispute_id);
  ${SQLITE_PROJECTION_BACKFILL}
  `,
  // 8: A4's compensation of the merchant is an outbox effect of its own kind. SQLite cannot change a
  // CHECK in place: the table is rebuilt with its rows and indexes.
  `
  CREATE TABLE outbox_v8 (
    effect_id        TEXT PRIMARY KEY,
    workflow_id      TEXT NOT NULL REFERENCES workflows (workflow_id),
    kind             TEXT NOT NULL CHECK (kind IN ('refund', 'interception', 'notification', 'compensation')),
    idempotency_key  TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'done', 'dead')),
    attempts         INTEGER NOT NULL,
    available_at     INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    claimed_by       TEXT,
    claim_expires_at INTEGER
  ) STRICT;
  INSERT INTO outbox_v8 SELECT effect_id, workflow_id, kind, idempotency_key, payload, status, attempts, available_at,
    last_error, created_at, claimed_by, claim_expires_at FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_v8 RENAME TO outbox;
  CREATE INDEX outbox_pending ON outbox (available_at, created_at, effect_id) WHERE status = 'pending';
  CREATE INDEX outbox_workflow ON outbox (workflow_id, created_at, effect_id);
  `,
  // 9: D9's separate log of refused attempts (refusalLog 'separate'), capped per workflow. Apart from the
  // workflow's rows: nothing a commit writes refers to it (INV4).
  `
  CREATE TABLE refusals (
    refusal_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    role        TEXT,
    actor_id    TEXT,
    event_type  TEXT,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL
  ) STRICT;
  CREATE INDEX refusals_workflow ON refusals (workflow_id, refusal_id);
  `,
];

const WORKFLOW_COLUMNS = `workflow_id AS workflowId, order_id AS orderId, merchant_id AS merchantId, version,
  machine_version AS machineVersion, audit_seq AS auditSeq, snapshot, status, last_event_at AS lastEventAt,
  created_at AS createdAt, updated_at AS updatedAt`;
const DEADLINE_COLUMNS = `deadline_id AS deadlineId, workflow_id AS workflowId, actor_path AS actorPath, timer,
  event_type AS eventType, due_at AS dueAt`;
const OUTBOX_COLUMNS = `effect_id AS effectId, workflow_id AS workflowId, kind, idempotency_key AS idempotencyKey,
  payload, status, attempts, available_at AS availableAt, last_error AS lastError, created_at AS createdAt`;
const AUDIT_COLUMNS = `workflow_id AS workflowId, seq, at, role, actor_id AS actorId, event_type AS eventType, event,
  resulting_state AS resultingState, command_id AS commandId`;
const CANCEL_ORDER_COLUMNS = `cancellation_id AS cancellationId, workflow_id AS workflowId, order_id AS orderId,
  merchant_id AS merchantId, customer_id AS customerId, status, reason, refund_reason AS refundReason, origin,
  refund_trigger_kind AS refundTriggerKind,
  created_at AS createdAt, updated_at AS updatedAt`;
const DISPUTE_COLUMNS = `dispute_id AS disputeId, workflow_id AS workflowId, order_id AS orderId,
  merchant_id AS merchantId, customer_id AS customerId, status, plan, waiting_on AS waitingOn, next_due_at AS nextDueAt,
  next_timer AS nextTimer, opened_at AS openedAt, updated_at AS updatedAt`;
const COMMAND_COLUMNS = `command_id AS commandId, workflow_id AS workflowId, scope, payload_hash AS payloadHash,
  result, at`;

/** Claimable: no lease, or an expired one (expiry < now). A live lease excludes its holder too. */
const LEASE_FREE = `(claimed_by IS NULL OR claim_expires_at < @now)`;

/**
 * The select of a dispute listing page, with its parameters. A list of one value is an equality, so an
 * index keeps its order: `{ merchantId, waitingOn: ['merchant'] }` reads one range of
 * disputes_merchant_queue, in listing order, and stops after the page.
 */
export function sqliteDisputeSelect(query: ParsedDisputeQuery): { sql: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: query.size + 1 };
  const equal = (column: string, name: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(`${column} = @${name}`);
    params[name] = value;
  };
  const anyOf = (column: string, name: string, values: string[] | undefined) => {
    if (values === undefined) return;
    if (values.length === 1) return equal(column, name, values[0]);
    where.push(`${column} IN (SELECT value FROM json_each(@${name}))`);
    params[name] = JSON.stringify(values);
  };
  equal('merchant_id', 'merchantId', query.merchantId);
  equal('customer_id', 'customerId', query.customerId);
  equal('order_id', 'orderId', query.orderId);
  anyOf('waiting_on', 'waitingOn', query.waitingOn);
  anyOf('status', 'status', query.status);
  anyOf('plan', 'plan', query.plan);
  if (query.dueFrom !== undefined) {
    where.push('due_sort >= @dueFrom');
    params.dueFrom = query.dueFrom;
  }
  if (query.dueBefore !== undefined) {
    where.push('due_sort < @dueBefore');
    params.dueBefore = query.dueBefore;
  }
  const { after } = query;
  if (after) {
    where.push('(due_sort, workflow_id, dispute_id) > (@afterDue, @afterWorkflowId, @afterId)');
    Object.assign(params, { afterDue: after.dueSort, afterWorkflowId: after.workflowId, afterId: after.disputeId });
  }
  const sql = `SELECT ${DISPUTE_COLUMNS} FROM disputes
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY due_sort, workflow_id, dispute_id LIMIT @limit`;
  return { sql, params };
}

type Json<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };

function prepareStatements(db: Database.Database) {
  return {
    selectWorkflow: db.prepare<[string], Json<WorkflowRecord, 'snapshot'>>(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE workflow_id = ?`),
    // lookup: the snapshot is read only when the caller does not hold this version live
    selectWorkflowUnlessLive: db.prepare<[number | null, string], Json<WorkflowRecord, 'snapshot'> & { snapshot: string | null }>(
      `SELECT ${WORKFLOW_COLUMNS.replace('snapshot,', 'CASE WHEN version IS ? THEN NULL ELSE snapshot END AS snapshot,')}
       FROM workflows WHERE workflow_id = ?`,
    ),
    selectVersion: db.prepare<[string], { version: number; auditSeq: number }>(
      `SELECT version, audit_seq AS auditSeq FROM workflows WHERE workflow_id = ?`,
    ),
    insertWorkflow: db.prepare(
      `INSERT INTO workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot, status,
         last_event_at, created_at, updated_at, observed_at)
       VALUES (@workflowId, @orderId, @merchantId, @version, @machineVersion, @auditSeq, @snapshot, @status,
         @lastEventAt, @createdAt, @updatedAt, @observedAt)
       ON CONFLICT (workflow_id) DO NOTHING`,
    ),
    updateWorkflow: db.prepare(
      `UPDATE workflows SET order_id = @orderId, merchant_id = @merchantId, version = @version,
         machine_version = @machineVersion, audit_seq = @auditSeq, snapshot = @snapshot, status = @status,
         last_event_at = @lastEventAt, created_at = @createdAt, updated_at = @updatedAt,
         observed_at = MAX(observed_at, @observedAt)
       WHERE workflow_id = @workflowId AND version = @expectedVersion AND audit_seq = @previousAuditSeq`,
    ),
    workflowDeadlines: db.prepare<[string], DeadlineRow>(`SELECT ${DEADLINE_COLUMNS} FROM deadlines WHERE workflow_id = ?`),
    deleteDeadline: db.prepare(`DELETE FROM deadlines WHERE workflow_id = ? AND deadline_id = ?`),
    // A kept deadline keeps its lease: a worker may be firing it right now.
    upsertDeadline: db.prepare(
      `INSERT INTO deadlines (deadline_id, workflow_id, actor_path, timer, event_type, due_at)
       VALUES (@deadlineId, @workflowId, @actorPath, @timer, @eventType, @dueAt)
       ON CONFLICT (workflow_id, deadline_id) DO UPDATE SET actor_path = excluded.actor_path, timer = excluded.timer,
         event_type = excluded.event_type, due_at = excluded.due_at`,
    ),
    insertAudit: db.prepare(
      `INSERT INTO audit (workflow_id, seq, at, role, actor_id, event_type, event, resulting_state, command_id)
       VALUES (@workflowId, @seq, @at, @role, @actorId, @eventType, @event, @resultingState, @commandId)`,
    ),
    insertEffect: db.prepare(
      `INSERT INTO outbox (effect_id, workflow_id, kind, idempotency_key, payload, status, attempts, available_at,
         last_error, created_at)
       VALUES (@effectId, @workflowId, @kind, @idempotencyKey, @payload, @status, @attempts, @availableAt,
         @lastError, @createdAt)
       ON CONFLICT (effect_id) DO NOTHING`,
    ),
    upsertCancelOrder: db.prepare(
      `INSERT INTO cancel_orders (cancellation_id, workflow_id, order_id, merchant_id, customer_id, status, reason,
         refund_reason, origin, refund_trigger_kind, created_at, updated_at)
       VALUES (@cancellationId, @workflowId, @orderId, @merchantId, @customerId, @status, @reason, @refundReason,
         @origin, @refundTriggerKind, @createdAt, @updatedAt)
       ON CONFLICT (workflow_id, cancellation_id) DO UPDATE SET order_id = excluded.order_id,
         merchant_id = excluded.merchant_id, customer_id = excluded.customer_id, status = excluded.status,
         reason = excluded.reason, refund_reason = excluded.refund_reason,
         origin = excluded.origin, refund_trigger_kind = excluded.refund_trigger_kind,
         created_at = excluded.created_at, updated_at = excluded.updated_at`,
    ),
    // The usual change of a cancel order (status, reason, refund trigger, time): only unindexed columns
    // are set, so the three secondary indexes are not rewritten (an upsert that sets indexed columns
    // rewrites their entries even when the values are the same). No row with these identity columns:
    // nothing changes, and the upsert above writes the row.
    updateCancelOrderState: db.prepare(
      `UPDATE cancel_orders SET status = @status, reason = @reason, refund_reason = @refundReason,
         refund_trigger_kind = @refundTriggerKind, updated_at = @updatedAt
       WHERE workflow_id = @workflowId AND cancellation_id = @cancellationId AND order_id = @orderId
         AND merchant_id = @merchantId AND customer_id = @customerId AND origin = @origin AND created_at = @createdAt`,
    ),
    upsertDispute: db.prepare(
      `INSERT INTO disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
         next_due_at, next_timer, due_sort, opened_at, updated_at)
       VALUES (@workflowId, @disputeId, @orderId, @merchantId, @customerId, @status, @plan, @waitingOn,
         @nextDueAt, @nextTimer, @dueSort, @openedAt, @updatedAt)
       ON CONFLICT (workflow_id, dispute_id) DO UPDATE SET order_id = excluded.order_id,
         merchant_id = excluded.merchant_id, customer_id = excluded.customer_id, status = excluded.status,
         plan = excluded.plan, waiting_on = excluded.waiting_on, next_due_at = excluded.next_due_at,
         next_timer = excluded.next_timer, due_sort = excluded.due_sort, opened_at = excluded.opened_at,
         updated_at = excluded.updated_at`,
    ),
    insertCommand: db.prepare(
      `INSERT INTO commands (workflow_id, scope, command_id, payload_hash, result, at)
       VALUES (@workflowId, @scope, @commandId, @payloadHash, @result, @at)
       ON CONFLICT (workflow_id, scope, command_id) DO NOTHING`,
    ),
    selectCommand: db.prepare<[string, string, string], Json<CommandRow, 'result'>>(
      `SELECT ${COMMAND_COLUMNS} FROM commands WHERE workflow_id = ? AND scope = ? AND command_id = ?`,
    ),
    claimDeadlines: db.prepare<ClaimParams, DeadlineRow>(
      `UPDATE deadlines SET claimed_by = @workerId, claim_expires_at = @expiresAt
       WHERE (workflow_id, deadline_id) IN (
         SELECT workflow_id, deadline_id FROM deadlines WHERE due_at <= @now AND ${LEASE_FREE}
         ORDER BY due_at, deadline_id LIMIT @limit)
       RETURNING ${DEADLINE_COLUMNS}`,
    ),
    claimOutbox: db.prepare<ClaimParams, Json<OutboxRow, 'payload'>>(
      `UPDATE outbox SET claimed_by = @workerId, claim_expires_at = @expiresAt
       WHERE effect_id IN (
         SELECT effect_id FROM outbox WHERE status = 'pending' AND available_at <= @now AND ${LEASE_FREE}
         ORDER BY available_at, created_at, effect_id LIMIT @limit)
       RETURNING ${OUTBOX_COLUMNS}`,
    ),
    extendEffectLease: db.prepare(
      `UPDATE outbox SET claim_expires_at = @expiresAt
       WHERE effect_id = @effectId AND claimed_by = @workerId AND status = 'pending'`,
    ),
    recordFailure: db.prepare(
      `UPDATE outbox SET attempts = attempts + 1, last_error = @error, available_at = @availableAt,
         status = CASE WHEN @dead THEN 'dead' ELSE status END, claimed_by = NULL, claim_expires_at = NULL
       WHERE effect_id = @effectId AND status = 'pending' AND (@workerId IS NULL OR claimed_by = @workerId)`,
    ),
    completeEffect: db.prepare(`UPDATE outbox SET status = 'done', claimed_by = NULL, claim_expires_at = NULL WHERE effect_id = ?`),
    listDeadlines: db.prepare<[string], DeadlineRow>(
      `SELECT ${DEADLINE_COLUMNS} FROM deadlines WHERE workflow_id = ? ORDER BY due_at, deadline_id`,
    ),
    listOutbox: db.prepare<[string], Json<OutboxRow, 'payload'>>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE workflow_id = ? ORDER BY created_at, effect_id`,
    ),
    listAudit: db.prepare<[string], Json<AuditRow, 'event' | 'resultingState'>>(
      `SELECT ${AUDIT_COLUMNS} FROM audit WHERE workflow_id = ? ORDER BY seq`,
    ),
    // The earliest time a claim can succeed: a leased row counts from the end of its lease (expiry < now).
    // Every row due before the first unleased one is leased: both parts are short range scans of deadlines_due.
    nextDueAt: db
      .prepare<[], number | null>(
        `WITH free AS (SELECT due_at FROM deadlines WHERE claimed_by IS NULL ORDER BY due_at LIMIT 1)
         SELECT MIN(at) FROM (
           SELECT due_at AS at FROM free
           UNION ALL
           SELECT MAX(due_at, claim_expires_at + 1) FROM deadlines
           WHERE claimed_by IS NOT NULL AND due_at < COALESCE((SELECT due_at FROM free), 9223372036854775807))`,
      )
      .pluck(),
    highWaterMark: db.prepare<[], number | null>(`SELECT MAX(observed_at) FROM workflows`).pluck(),
  };
}

interface ClaimParams {
  workerId: string;
  now: number;
  expiresAt: number;
  limit: number;
}

const claimParams = (claim: Claim): ClaimParams => ({
  workerId: claim.workerId,
  now: claim.now,
  expiresAt: claim.now + claim.leaseMs,
  limit: claim.limit,
});

const sameDeadline = (a: DeadlineRow, b: DeadlineRow): boolean =>
  a.dueAt === b.dueAt && a.eventType === b.eventType && a.timer === b.timer && a.actorPath === b.actorPath;

const parseEffect = (row: Json<OutboxRow, 'payload'>): OutboxRow => ({
  ...row,
  payload: JSON.parse(row.payload) as unknown,
});

/**
 * WorkflowStore on better-sqlite3. One connection, synchronous calls wrapped in promises; several
 * processes may share the file (WAL, busy timeout). Call `migrate()` before anything else.
 */
export function createSqliteStore(
  options: SqliteStoreOptions,
): WorkflowStore & BatchCommitStore & BatchEffectStore & RefusalStore & LookupStore {
  const db = new (loadBetterSqlite3())(options.filename, { timeout: options.busyTimeoutMs ?? 5000 });
  const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_STORE_DEFAULTS.busyTimeoutMs;
  const busySliceMs = Math.min(options.busySliceMs ?? SQLITE_STORE_DEFAULTS.busySliceMs, busyTimeoutMs);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: a process crash loses nothing and the file never corrupts; only an OS crash or power
  // loss can roll back the latest commits, because the WAL is fsynced at checkpoints, not per commit.
  // FULL (one fsync per commit) is optional: pick it where an acknowledged command must survive power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // From here on SQLite waits one short slice at a time; `attempt` retries between slices.
  db.pragma(`busy_timeout = ${busySliceMs}`);

  /**
   * Runs one synchronous operation; while another connection holds the lock it needs, yields to the
   * event loop and retries until busyTimeoutMs is spent. A refused transaction wrote nothing, so a
   * retry is safe. Failures of the store come out as StoreUnavailableError.
   */
  async function attempt<T>(operation: string, work: () => T): Promise<T> {
    const giveUpAt = performance.now() + busyTimeoutMs;
    for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, 50)) {
      try {
        return work();
      } catch (error) {
        const remainingMs = giveUpAt - performance.now();
        if (!CONTENDED.test(sqliteCode(error) ?? '') || remainingMs <= 0) throw sqliteStoreError(error, operation);
        await new Promise((resolve) => setTimeout(resolve, Math.min(pauseMs, remainingMs)));
      }
    }
  }

  // Statements need the tables: prepared once, on first use after migrate().
  let prepared: ReturnType<typeof prepareStatements> | undefined;
  const st = () => (prepared ??= prepareStatements(db));
  const queryCache = new Map<string, Database.Statement<Record<string, unknown>, CancelOrderRow>>();
  const disputeQueryCache = new Map<string, Database.Statement<Record<string, unknown>, unknown>>();
  /** Statements of the dispute listing and counts, one per shape of query. */
  const disputeStatement = <Row>(sql: string) => {
    let statement = disputeQueryCache.get(sql);
    if (!statement) {
      statement = db.prepare<Record<string, unknown>, unknown>(sql);
      disputeQueryCache.set(sql, statement);
    }
    return statement as Database.Statement<Record<string, unknown>, Row>;
  };

  /** Why the workflow row was not written: another version, or audit rows that do not continue the trail. */
  const refusal = (commit: Commit): Error => {
    const stored = st().selectVersion.get(commit.workflow.workflowId);
    if (stored && stored.version === commit.expectedVersion) return auditSeqMismatch(commit, stored.auditSeq);
    return new VersionConflictError(commit.workflow.workflowId, commit.expectedVersion, stored?.version ?? null);
  };

  /**
   * The writes of one commit, in the caller's transaction. A refusal (command recorded before, version
   * conflict, audit trail mismatch) is decided before the first write and returned; anything that fails
   * after a write throws, and the caller's transaction must roll back.
   */
  const writeCommitRows = (commit: Commit, texts: CommitJson): Error | null => {
    const s = st();
    const { workflow, command } = commit;
    if (command && s.selectCommand.get(command.workflowId, command.scope, command.commandId) !== undefined) {
      return new DuplicateCommandError(command.commandId);
    }
    const workflowParams = {
      ...workflowColumns(workflow),
      snapshot: texts.snapshot,
      expectedVersion: commit.expectedVersion,
      previousAuditSeq: previousAuditSeq(commit),
      observedAt: commit.observedAt,
    };
    const written = commit.expectedVersion === null ? s.insertWorkflow.run(workflowParams) : s.updateWorkflow.run(workflowParams);
    if (written.changes === 0) return refusal(commit);

    // Most commits leave the deadline set as it is: compare, then write only the difference.
    const stored = new Map(s.workflowDeadlines.all(workflow.workflowId).map((row) => [row.deadlineId, row]));
    for (const row of commit.deadlines) {
      const current = stored.get(row.deadlineId);
      if (!current || !sameDeadline(current, row)) s.upsertDeadline.run(row);
      stored.delete(row.deadlineId);
    }
    for (const id of stored.keys()) s.deleteDeadline.run(workflow.workflowId, id);
    commit.audit.forEach((row, i) => {
      s.insertAudit.run({ ...row, ...texts.audit[i] });
    });
    commit.outbox.forEach((row, i) => {
      s.insertEffect.run({ ...row, payload: texts.outbox[i] });
    });
    for (const row of commit.cancelOrders) {
      if (s.updateCancelOrderState.run(row).changes === 0) s.upsertCancelOrder.run(row);
    }
    for (const row of commit.disputes ?? []) s.upsertDispute.run({ ...row, dueSort: disputeSortKey(row) });
    // Checked above, and this transaction holds the write lock: a conflict here is a store fault.
    if (command && s.insertCommand.run({ ...command, result: texts.commandResult }).changes === 0) {
      throw new DuplicateCommandError(command.commandId);
    }
    if (commit.completesEffectId !== null) s.completeEffect.run(commit.completesEffectId);
    return null;
  };

  const writeCommit = db.transaction((commit: Commit, texts: CommitJson) => {
    const refused = writeCommitRows(commit, texts);
    if (refused) throw refused;
  });

  // Several commits in one transaction: one WAL commit for the lot instead of one per commit. A refused
  // commit wrote nothing (its refusal is decided before its first write), so no savepoint is needed;
  // a commit that fails after writing throws, the whole transaction rolls back and `commitAll` writes
  // each commit in its own. Each commit is checked and serialised before the transaction begins, so
  // the write lock (which other processes and threads on the file wait for) is held only for the writes.
  const writeCommits = db.transaction((checked: ReadonlyArray<{ commit: Commit; texts: CommitJson } | { error: unknown }>): unknown[] =>
    checked.map((item) => ('error' in item ? item.error : writeCommitRows(item.commit, item.texts))),
  );

  // D9: a refusal and the trim of its workflow's log to the cap, one small transaction of its own.
  const refusalLogCap = refusalCap(options.refusalLogCap);
  let refusalStatements: { insert: Database.Statement; trim: Database.Statement; list: Database.Statement } | undefined;
  const refusalSql = () =>
    (refusalStatements ??= {
      insert: db.prepare(
        `INSERT INTO refusals (workflow_id, at, role, actor_id, event_type, code, message)
         VALUES (@workflowId, @at, @role, @actorId, @eventType, @code, @message)`,
      ),
      trim: db.prepare(
        `DELETE FROM refusals WHERE workflow_id = @workflowId AND refusal_id <=
           (SELECT refusal_id FROM refusals WHERE workflow_id = @workflowId ORDER BY refusal_id DESC LIMIT 1 OFFSET @cap)`,
      ),
      list: db.prepare(
        `SELECT workflow_id AS workflowId, at, role, actor_id AS actorId, event_type AS eventType, code, message
         FROM refusals WHERE workflow_id = ? ORDER BY refusal_id`,
      ),
    });
  const writeRefusal = db.transaction((row: RefusalRow) => {
    const sql = refusalSql();
    sql.insert.run(row);
    sql.trim.run({ workflowId: row.workflowId, cap: refusalLogCap });
  });

  const completeEffects = db.transaction((effectIds: readonly string[]) => {
    const s = st();
    for (const effectId of effectIds) s.completeEffect.run(effectId);
  });

  const migrateSchema = db.transaction(() => {
    const applied = db.pragma('user_version', { simple: true }) as number;
    if (applied > SQLITE_MIGRATIONS.length) {
      throw new Error(`database schema version ${applied} is newer than this package (${SQLITE_MIGRATIONS.length})`);
    }
    for (const sql of SQLITE_MIGRATIONS.slice(applied)) db.exec(sql);
    if (applied < SQLITE_MIGRATIONS.length) db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
  });

  function cancelOrderStatement(query: CancelOrderQuery, keyed: boolean) {
    const where: string[] = [];
    if (query.merchantId !== undefined) where.push('merchant_id = @merchantId');
    if (query.customerId !== undefined) where.push('customer_id = @customerId');
    if (query.orderId !== undefined) where.push('order_id = @orderId');
    if (query.status !== undefined) where.push('status IN (SELECT value FROM json_each(@status))');
    if (query.reason !== undefined) {
      where.push('(reason IN (SELECT value FROM json_each(@reason)) OR refund_reason IN (SELECT value FROM json_each(@reason)))');
    }
    if (query.createdFrom !== undefined) where.push('created_at >= @createdFrom');
    if (query.createdTo !== undefined) where.push('created_at < @createdTo');
    if (keyed) where.push('(created_at, workflow_id, cancellation_id) > (@afterCreatedAt, @afterWorkflowId, @afterId)');
    const sql = `SELECT ${CANCEL_ORDER_COLUMNS} FROM cancel_orders
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at, workflow_id, cancellation_id LIMIT @limit`;
    let statement = queryCache.get(sql);
    if (!statement) {
      statement = db.prepare<Record<string, unknown>, CancelOrderRow>(sql);
      queryCache.set(sql, statement);
    }
    return statement;
  }

  return {
    async migrate() {
      await attempt('migrate', () => migrateSchema.immediate());
    },

    async load(workflowId) {
      if (!isStorableKey(workflowId)) return undefined;
      const row = await attempt('load', () => st().selectWorkflow.get(workflowId));
      return row && { ...row, snapshot: JSON.parse(row.snapshot) as unknown };
    },

    async lookup(workflowId, { command, liveVersion = null }) {
      if (command) assertCommandScope(command.scope);
      if (!isStorableKey(workflowId)) return { command: undefined, workflow: undefined };
      const wanted = command && isStorableKey(command.commandId) ? command : undefined;
      const [commandRow, row] = await attempt('lookup', () => {
        const s = st();
        return [
          wanted && s.selectCommand.get(workflowId, wanted.scope, wanted.commandId),
          s.selectWorkflowUnlessLive.get(liveVersion, workflowId),
        ];
      });
      let workflow: WorkflowRecord | WorkflowHeader | undefined;
      if (row) {
        const { snapshot, ...header } = row;
        workflow = snapshot === null ? header : { ...header, snapshot: JSON.parse(snapshot) as unknown };
      }
      return { command: commandRow && { ...commandRow, result: JSON.parse(commandRow.result) as unknown }, workflow };
    },

    async commit(commit) {
      const texts = assertCommitShape(commit);
      await attempt('commit', () => writeCommit.immediate(commit, texts));
    },

    async commitAll(commits) {
      if (commits.length === 0) return [];
      const checked = commits.map((commit) => {
        try {
          return { commit, texts: assertCommitShape(commit) };
        } catch (error) {
          return { error: sqliteStoreError(error, 'commitAll') };
        }
      });
      try {
        return await attempt('commitAll', () => writeCommits.immediate(checked));
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        // A commit failed after it began writing: the transaction wrote nothing; each commit alone decides.
        const outcomes: unknown[] = [];
        for (const item of checked) {
          if ('error' in item) {
            outcomes.push(item.error);
            continue;
          }
          outcomes.push(
            await attempt('commitAll', () => writeCommit.immediate(item.commit, item.texts)).then(
              () => null,
              (failure: unknown) => failure,
            ),
          );
        }
        return outcomes;
      }
    },

    async getCommand(workflowId, scope, commandId) {
      assertCommandScope(scope);
      if (!isStorableKey(workflowId) || !isStorableKey(commandId)) return undefined;
      const row = await attempt('getCommand', () => st().selectCommand.get(workflowId, scope, commandId));
      return row && { ...row, result: JSON.parse(row.result) as unknown };
    },

    async claimDueDeadlines(claim) {
      assertClaim(claim);
      if (claim.limit < 1) return [];
      const rows = await attempt('claimDueDeadlines', () => st().claimDeadlines.all(claimParams(claim)));
      return rows.sort(compareDeadlines);
    },

    async claimOutbox(claim) {
      assertClaim(claim);
      if (claim.limit < 1) return [];
      const rows = await attempt('claimOutbox', () => st().claimOutbox.all(claimParams(claim)));
      return rows.map(parseEffect).sort(compareEffects);
    },

    async extendEffectLease(effectId, workerId, expiresAt) {
      if (!isStorableKey(effectId)) return false;
      const result = await attempt('extendEffectLease', () => st().extendEffectLease.run({ effectId, workerId, expiresAt }));
      return result.changes === 1;
    },

    async recordEffectFailure(effectId, reported) {
      const failure = storableFailure(reported);
      if (!isStorableKey(effectId)) return;
      await attempt('recordEffectFailure', () => st().recordFailure.run({ effectId, ...failure, dead: failure.dead ? 1 : 0 }));
    },

    async completeEffect(effectId) {
      if (isStorableKey(effectId)) await attempt('completeEffect', () => st().completeEffect.run(effectId));
    },

    async completeEffects(effectIds) {
      const storable = effectIds.filter(isStorableKey);
      if (storable.length > 0) await attempt('completeEffects', () => completeEffects.immediate(storable));
    },

    async recordRefusal(row) {
      const storable = storableRefusal(row);
      await attempt('recordRefusal', () => writeRefusal.immediate(storable));
    },

    async listRefusals(workflowId) {
      if (!isStorableKey(workflowId)) return [];
      return attempt('listRefusals', () => refusalSql().list.all(workflowId) as RefusalRow[]);
    },

    async listDeadlines(workflowId) {
      return isStorableKey(workflowId) ? attempt('listDeadlines', () => st().listDeadlines.all(workflowId)) : [];
    },

    async listOutbox(workflowId) {
      if (!isStorableKey(workflowId)) return [];
      return (await attempt('listOutbox', () => st().listOutbox.all(workflowId))).map(parseEffect);
    },

    async listAudit(workflowId) {
      if (!isStorableKey(workflowId)) return [];
      return (await attempt('listAudit', () => st().listAudit.all(workflowId))).map((row) => ({
        ...row,
        event: JSON.parse(row.event) as unknown,
        resultingState: JSON.parse(row.resultingState) as unknown,
      }));
    },

    async queryCancelOrders(raw) {
      const { size, after, ...query } = parseCancelOrderQuery(raw);
      const rows = await attempt('queryCancelOrders', () =>
        cancelOrderStatement(query, after !== null).all({
          merchantId: query.merchantId,
          customerId: query.customerId,
          orderId: query.orderId,
          status: query.status && JSON.stringify(query.status),
          reason: query.reason && JSON.stringify(query.reason),
          createdFrom: query.createdFrom,
          createdTo: query.createdTo,
          afterCreatedAt: after?.createdAt,
          afterWorkflowId: after?.workflowId,
          afterId: after?.cancellationId,
          limit: size + 1,
        }),
      );
      return toPage(rows, size);
    },

    async queryDisputes(raw) {
      const query = parseDisputeQuery(raw);
      const { sql, params } = sqliteDisputeSelect(query);
      const rows = await attempt('queryDisputes', () => disputeStatement<DisputeRow>(sql).all(params));
      return toDisputePage(rows, query.size);
    },

    async countDisputes(rawFilter, rawDueBefore) {
      const { filter, dueBefore } = parseDisputeCount(rawFilter, rawDueBefore);
      const where: string[] = [];
      if (filter.merchantId !== undefined) where.push('merchant_id = @merchantId');
      if (filter.customerId !== undefined) where.push('customer_id = @customerId');
      const params: Record<string, unknown> = { merchantId: filter.merchantId, customerId: filter.customerId };
      dueBefore.forEach((time, i) => {
        params[`due${i}`] = time;
      });
      const sql = `SELECT status, count(*) AS count${dueBefore.map((_, i) => `, count(*) FILTER (WHERE due_sort < @due${i}) AS due${i}`).join('')}
        FROM disputes ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY status ORDER BY status`;
      const rows = await attempt('countDisputes', () => disputeStatement<Record<string, number | string>>(sql).all(params));
      return rows.map(
        (row): DisputeStatusCount => ({
          status: String(row.status),
          count: Number(row.count),
          dueBefore: dueBefore.map((_, i) => Number(row[`due${i}`])),
        }),
      );
    },

    async nextDueAt() {
      return (await attempt('nextDueAt', () => st().nextDueAt.get())) ?? null;
    },

    async highWaterMark() {
      return (await attempt('highWaterMark', () => st().highWaterMark.get())) ?? 0;
    },

    async close() {
      db.close();
    },
  };
}
