import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { DuplicateCommandError, StoreUnavailableError, VersionConflictError, WorkflowError } from '../errors.js';
import {
  assertClaim,
  assertCommandScope,
  assertCommitShape,
  auditSeqMismatch,
  type CommitJson,
  compareDeadlines,
  compareEffects,
  compareText,
  disputeSortKey,
  isStorableKey,
  lastByKey,
  NO_DEADLINE,
  parseCancelOrderQuery,
  parseDisputeCount,
  parseDisputeQuery,
  type ParsedDisputeQuery,
  previousAuditSeq,
  storableFailure,
  toDisputePage,
  toPage,
} from './store-common.js';
import type {
  AuditRow,
  BatchCommitStore,
  BatchLoadStore,
  BatchEffectStore,
  CancelOrderRow,
  Claim,
  CommandRow,
  CommandScope,
  Commit,
  DeadlineRow,
  DisputeRow,
  DisputeStatusCount,
  OutboxKind,
  OutboxRow,
  OutboxStatus,
  LookupStore,
  RefusalStore,
  WorkflowRecord,
  WorkflowHeader,
  WorkflowStore,
} from './store.js';
import { refusalCap, storableRefusal } from '../refusals.js';

/** Options of `createPostgresStore`: a connection string or a pool, and the schema. */
export interface PostgresStoreOptions {
  /** Used to create a pool owned (and ended by `close()`) by the store. */
  connectionString?: string;
  /**
   * A pool owned by the caller: `close()` leaves it open. The server-side timeouts below then come from
   * the pool's own config (`statement_timeout`, `lock_timeout`), and the caller listens to its 'error'.
   */
  pool?: Pool;
  /** Schema holding the tables (default 'jd_dispute'); created by `migrate()`. */
  schema?: string;
  /** Server-side `statement_timeout` of the store's own pool, in ms (default 10,000; 0 turns it off). */
  statementTimeoutMs?: number;
  /** Server-side `lock_timeout` of the store's own pool: how long a statement waits for a row lock (default 3,000). */
  lockTimeoutMs?: number;
  /**
   * How long the store waits for any answer before it gives the connection up (a stalled network, a
   * server that stopped answering): default statementTimeoutMs + 5,000 (15,000). Applies to any pool.
   */
  queryTimeoutMs?: number;
  /** How long the store's own pool waits for a new connection (default 5,000). */
  connectTimeoutMs?: number;
  /** Connections in the store's own pool (default 10). */
  maxConnections?: number;
  /** `application_name` of the store's own connections (default 'jd-dispute-statecharts'). */
  applicationName?: string;
  /** D9: refusals kept per workflow, the newest (default REFUSAL_LOG_DEFAULT_CAP, 100). */
  refusalLogCap?: number;
}

export const POSTGRES_STORE_DEFAULTS = {
  statementTimeoutMs: 10_000,
  lockTimeoutMs: 3_000,
  connectTimeoutMs: 5_000,
  maxConnections: 10,
  applicationName: 'jd-dispute-statecharts',
} as const;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** Schema migrations; `<schema>.schema_version` holds the number applied. Append only, never edit. */
export const postgresMigrations = (s: string): readonly string[] => [
  `
  CREATE TABLE ${s}.workflows (
    workflow_id   text COLLATE "C" PRIMARY KEY,
    order_id      text NOT NULL,
    merchant_id   text NOT NULL,
    version       integer NOT NULL,
    snapshot      jsonb NOT NULL,
    status        text NOT NULL CHECK (status IN ('active', 'done')),
    last_event_at bigint NOT NULL,
    created_at    bigint NOT NULL,
    updated_at    bigint NOT NULL
  );

  CREATE TABLE ${s}.deadlines (
    deadline_id      text COLLATE "C" PRIMARY KEY,
    workflow_id      text COLLATE "C" NOT NULL REFERENCES ${s}.workflows (workflow_id),
    actor_path       text NOT NULL,
    timer            text NOT NULL,
    event_type       text NOT NULL,
    due_at           bigint NOT NULL,
    claimed_by       text,
    claim_expires_at bigint
  );
  CREATE INDEX deadlines_due ON ${s}.deadlines (due_at, deadline_id);
  CREATE INDEX deadlines_workflow ON ${s}.deadlines (workflow_id);

  CREATE TABLE ${s}.outbox (
    effect_id        text COLLATE "C" PRIMARY KEY,
    workflow_id      text COLLATE "C" NOT NULL REFERENCES ${s}.workflows (workflow_id),
    kind             text NOT NULL CHECK (kind IN ('refund', 'interception', 'notification')),
    idempotency_key  text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'done', 'dead')),
    attempts         integer NOT NULL,
    available_at     bigint NOT NULL,
    last_error       text,
    created_at       bigint NOT NULL,
    claimed_by       text,
    claim_expires_at bigint
  );
  CREATE INDEX outbox_pending ON ${s}.outbox (available_at, created_at, effect_id) WHERE status = 'pending';
  CREATE INDEX outbox_workflow ON ${s}.outbox (workflow_id, created_at, effect_id);

  CREATE TABLE ${s}.audit (
    workflow_id     text COLLATE "C" NOT NULL REFERENCES ${s}.workflows (workflow_id),
    seq             integer NOT NULL,
    at              bigint NOT NULL,
    role            text NOT NULL,
    actor_id        text NOT NULL,
    event_type      text NOT NULL,
    event           jsonb NOT NULL,
    resulting_state jsonb NOT NULL,
    command_id      text,
    PRIMARY KEY (workflow_id, seq)
  );

  CREATE TABLE ${s}.cancel_orders (
    cancellation_id     text COLLATE "C" PRIMARY KEY,
    workflow_id         text COLLATE "C" NOT NULL REFERENCES ${s}.workflows (workflow_id),
    order_id            text NOT NULL,
    merchant_id         text NOT NULL,
    status              text NOT NULL,
    reason              text NOT NULL,
    origin              text NOT NULL,
    refund_trigger_kind text,
    created_at          bigint NOT NULL,
    updated_at          bigint NOT NULL
  );
  CREATE INDEX cancel_orders_created ON ${s}.cancel_orders (created_at, cancellation_id);
  CREATE INDEX cancel_orders_merchant ON ${s}.cancel_orders (merchant_id, created_at, cancellation_id);
  CREATE INDEX cancel_orders_order ON ${s}.cancel_orders (order_id, created_at, cancellation_id);

  CREATE TABLE ${s}.commands (
    command_id   text COLLATE "C" PRIMARY KEY,
    workflow_id  text COLLATE "C" NOT NULL REFERENCES ${s}.workflows (workflow_id),
    payload_hash text NOT NULL,
    result       jsonb NOT NULL,
    at           bigint NOT NULL
  );
  `,
  // 2: the X2 projection is keyed by (workflow_id, cancellation_id): two orders may use the same
  // cancel-order id. The keyset order becomes (created_at, workflow_id, cancellation_id).
  `
  ALTER TABLE ${s}.cancel_orders DROP CONSTRAINT cancel_orders_pkey;
  ALTER TABLE ${s}.cancel_orders ADD CONSTRAINT cancel_orders_pkey PRIMARY KEY (workflow_id, cancellation_id);
  DROP INDEX ${s}.cancel_orders_created;
  DROP INDEX ${s}.cancel_orders_merchant;
  DROP INDEX ${s}.cancel_orders_order;
  CREATE INDEX cancel_orders_created ON ${s}.cancel_orders (created_at, workflow_id, cancellation_id);
  CREATE INDEX cancel_orders_merchant ON ${s}.cancel_orders (merchant_id, created_at, workflow_id, cancellation_id);
  CREATE INDEX cancel_orders_order ON ${s}.cancel_orders (order_id, created_at, workflow_id, cancellation_id);
  `,
  // 3: a workflow records the version of the machine that wrote its snapshot (rows written before
  // versioning were written by machine version 1) and the seq of its last audit row. The defaults only
  // fill existing rows: every commit writes both.
  `
  ALTER TABLE ${s}.workflows ADD COLUMN machine_version integer NOT NULL DEFAULT 1,
    ADD COLUMN audit_seq integer NOT NULL DEFAULT 0;
  UPDATE ${s}.workflows AS w SET audit_seq = a.seq
  FROM (SELECT workflow_id, max(seq) AS seq FROM ${s}.audit GROUP BY workflow_id) AS a
  WHERE a.workflow_id = w.workflow_id;
  ALTER TABLE ${s}.workflows ALTER COLUMN machine_version DROP DEFAULT, ALTER COLUMN audit_seq DROP DEFAULT;
  `,
  // 4: command ids are unique per (workflow, scope): a client's ids and the runtime's own records live in
  // separate namespaces. The runtime's earlier records are the ones it named after their own workflow
  // (open:<workflowId>, effect:<effectId>, effect ids start with '<workflowId>|'); they keep their ids.
  `
  ALTER TABLE ${s}.commands ADD COLUMN scope text NOT NULL DEFAULT 'client' CHECK (scope IN ('client', 'runtime'));
  UPDATE ${s}.commands SET scope = 'runtime'
  WHERE command_id = 'open:' || workflow_id
    OR left(command_id, length(workflow_id) + 8) = 'effect:' || workflow_id || '|';
  ALTER TABLE ${s}.commands ALTER COLUMN scope DROP DEFAULT;
  ALTER TABLE ${s}.commands DROP CONSTRAINT commands_pkey;
  ALTER TABLE ${s}.commands ADD CONSTRAINT commands_pkey PRIMARY KEY (workflow_id, scope, command_id);
  `,
  // 5: the clock's high-water mark. Each workflow keeps the highest runtime clock reading of its commits
  // (its updated_at so far); the mark is their maximum, one index seek. Not a single row: every commit
  // of every worker would queue on its lock.
  `
  ALTER TABLE ${s}.workflows ADD COLUMN observed_at bigint NOT NULL DEFAULT 0;
  UPDATE ${s}.workflows SET observed_at = updated_at;
  ALTER TABLE ${s}.workflows ALTER COLUMN observed_at DROP DEFAULT;
  CREATE INDEX workflows_observed ON ${s}.workflows (observed_at);
  `,
  // 6: in its own scope the runtime records the opening of a workflow as 'open' (the workflow is in the
  // key): earlier openings, 'open:<workflowId>', are renamed, so reopening an old workflow with the same
  // input still answers the first result.
  `
  UPDATE ${s}.commands AS c SET command_id = 'open'
  WHERE c.scope = 'runtime' AND c.command_id = 'open:' || c.workflow_id
    AND NOT EXISTS (SELECT FROM ${s}.commands AS o
                    WHERE o.workflow_id = c.workflow_id AND o.scope = 'runtime' AND o.command_id = 'open');
  `,
  // 7: the work queues. Cancel orders carry their customer (R1: a customer lists its own) and why they
  // were refunded (D6/X2); the dispute projection lists every dispute with whose move it is and its next
  // deadline, indexed so that a party's queue is one index range scan. Both are filled from the stored
  // workflows (a dispute's deadline from the deadlines table, whose move it is from its status).
  `
  ALTER TABLE ${s}.cancel_orders ADD COLUMN customer_id text NOT NULL DEFAULT '', ADD COLUMN refund_reason text;
  ALTER TABLE ${s}.cancel_orders ALTER COLUMN customer_id DROP DEFAULT;
  CREATE INDEX cancel_orders_customer ON ${s}.cancel_orders (customer_id, created_at, workflow_id, cancellation_id);

  CREATE TABLE ${s}.disputes (
    workflow_id text COLLATE "C" NOT NULL REFERENCES ${s}.workflows (workflow_id),
    dispute_id  text COLLATE "C" NOT NULL,
    order_id    text NOT NULL,
    merchant_id text NOT NULL,
    customer_id text NOT NULL,
    status      text NOT NULL,
    plan        text,
    waiting_on  text,
    next_due_at bigint,
    next_timer  text,
    due_sort    bigint NOT NULL,
    opened_at   bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (workflow_id, dispute_id)
  );
  CREATE INDEX disputes_merchant_queue ON ${s}.disputes (merchant_id, waiting_on, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_merchant ON ${s}.disputes (merchant_id, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_customer ON ${s}.disputes (customer_id, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_queue ON ${s}.disputes (waiting_on, due_sort, workflow_id, dispute_id);
  CREATE INDEX disputes_due ON ${s}.disputes (due_sort, workflow_id, dispute_id);
  ${postgresProjectionBackfill(s)}
  `,
  // 8: A4's compensation of the merchant is an outbox effect of its own kind.
  `
  ALTER TABLE ${s}.outbox DROP CONSTRAINT IF EXISTS outbox_kind_check;
  ALTER TABLE ${s}.outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('refund', 'interception', 'notification', 'compensation'));
  `,
  // 9: D9's separate log of refused attempts (refusalLog 'separate'), capped per workflow. Apart from the
  // workflow's rows: nothing a commit writes refers to it (INV4).
  `
  CREATE TABLE ${s}.refusals (
    refusal_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id text COLLATE "C" NOT NULL,
    at          bigint NOT NULL,
    role        text,
    actor_id    text,
    event_type  text,
    code        text NOT NULL,
    message     text NOT NULL
  );
  CREATE INDEX refusals_workflow ON ${s}.refusals (workflow_id, refusal_id);
  `,
];

/**
 * Fills the columns and rows migration 7 adds from the stored workflows (machine version 2 snapshots):
 * what the unit of work writes for every later commit. Statuses map to whose move it is as the dispute
 * machine's state tags do.
 */
export function postgresProjectionBackfill(s: string): string {
  return `
  UPDATE ${s}.cancel_orders AS c SET
    customer_id = coalesce(w.snapshot #>> '{context,customerId}', ''),
    refund_reason = CASE WHEN c.refund_trigger_kind IS NULL THEN NULL
                         WHEN c.refund_trigger_kind = 'platformRuling' THEN 'PLATFORM_RULING_REFUND' ELSE c.reason END
  FROM ${s}.workflows AS w WHERE w.workflow_id = c.workflow_id;
  INSERT INTO ${s}.disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
    next_due_at, next_timer, due_sort, opened_at, updated_at)
  SELECT w.workflow_id, d.value ->> 'disputeId', w.order_id, w.merchant_id,
    coalesce(w.snapshot #>> '{context,customerId}', ''), d.value ->> 'status', d.value ->> 'plan', NULL, NULL, NULL,
    ${NO_DEADLINE}, (d.value ->> 'openedAt')::bigint, w.last_event_at
  FROM ${s}.workflows AS w, jsonb_array_elements(coalesce(w.snapshot #> '{context,closedDisputes}', '[]')) AS d (value)
  ON CONFLICT (workflow_id, dispute_id) DO NOTHING;
  INSERT INTO ${s}.disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
    next_due_at, next_timer, due_sort, opened_at, updated_at)
  SELECT w.workflow_id, w.snapshot #>> '{context,dispute,disputeId}', w.order_id, w.merchant_id,
    coalesce(w.snapshot #>> '{context,customerId}', ''), o.status, w.snapshot #>> '{children,dispute,snapshot,context,plan}',
    CASE o.status WHEN 'awaitingMerchantChoice' THEN 'merchant' WHEN 'awaitingCustomerConfirmation' THEN 'customer'
                  WHEN 'awaitingPlatformRuling' THEN 'platform' END,
    n.due_at, n.timer, coalesce(n.due_at, ${NO_DEADLINE}), (w.snapshot #>> '{context,dispute,openedAt}')::bigint,
    w.last_event_at
  FROM ${s}.workflows AS w
  CROSS JOIN LATERAL (SELECT w.snapshot #>> '{children,dispute,snapshot,value}' AS status) AS o
  LEFT JOIN LATERAL (SELECT due_at, timer FROM ${s}.deadlines AS d
                     WHERE d.workflow_id = w.workflow_id AND d.actor_path = 'dispute'
                     ORDER BY due_at LIMIT 1) AS n ON true
  WHERE jsonb_typeof(w.snapshot #> '{context,dispute}') = 'object'
    AND jsonb_typeof(w.snapshot #> '{children,dispute,snapshot,value}') = 'string'
  ON CONFLICT (workflow_id, dispute_id) DO NOTHING;
  `;
}

const DEADLINE_COLUMNS = `deadline_id, workflow_id, actor_path, timer, event_type, due_at`;
const OUTBOX_COLUMNS = `effect_id, workflow_id, kind, idempotency_key, payload, status, attempts, available_at,
  last_error, created_at`;
const CANCEL_ORDER_COLUMNS = `cancellation_id, workflow_id, order_id, merchant_id, customer_id, status, reason,
  refund_reason, origin, refund_trigger_kind, created_at, updated_at`;
const DISPUTE_COLUMNS = `dispute_id, workflow_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
  next_due_at, next_timer, opened_at, updated_at`;
/** Claimable: no lease, or an expired one (expiry < now). A live lease excludes its holder too. */
const LEASE_FREE = `(claimed_by IS NULL OR claim_expires_at < $2)`;

/**
 * The select of a dispute listing page, with its values. A list of one value is an equality, so an
 * index keeps its order: `{ merchantId, waitingOn: ['merchant'] }` reads one range of
 * disputes_merchant_queue (docs/performance.md shows the plans).
 */
export function postgresDisputeSelect(s: string, query: ParsedDisputeQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const anyOf = (column: string, list: string[] | undefined) => {
    if (list === undefined) return;
    where.push(list.length === 1 ? `${column} = ${param(list[0])}` : `${column} = ANY (${param(list)}::text[])`);
  };
  if (query.merchantId !== undefined) where.push(`merchant_id = ${param(query.merchantId)}`);
  if (query.customerId !== undefined) where.push(`customer_id = ${param(query.customerId)}`);
  if (query.orderId !== undefined) where.push(`order_id = ${param(query.orderId)}`);
  anyOf('waiting_on', query.waitingOn);
  anyOf('status', query.status);
  anyOf('plan', query.plan);
  if (query.dueFrom !== undefined) where.push(`due_sort >= ${param(query.dueFrom)}`);
  if (query.dueBefore !== undefined) where.push(`due_sort < ${param(query.dueBefore)}`);
  const { after } = query;
  if (after) {
    where.push(`(due_sort, workflow_id, dispute_id) > (${param(after.dueSort)}, ${param(after.workflowId)}, ${param(after.disputeId)})`);
  }
  const text = `SELECT ${DISPUTE_COLUMNS} FROM ${s}.disputes
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY due_sort, workflow_id, dispute_id LIMIT ${param(query.size + 1)}`;
  return { text, values };
}

// The upserts both commit statements end their row inserts with (a deadline keeps its lease when unchanged).
const DEADLINE_UPSERT = `ON CONFLICT (deadline_id) DO UPDATE SET actor_path = excluded.actor_path, timer = excluded.timer,
      event_type = excluded.event_type, due_at = excluded.due_at
    WHERE (t.actor_path, t.timer, t.event_type, t.due_at)
      IS DISTINCT FROM (excluded.actor_path, excluded.timer, excluded.event_type, excluded.due_at)`;
const CANCEL_ORDER_UPSERT = `ON CONFLICT (workflow_id, cancellation_id) DO UPDATE SET order_id = excluded.order_id,
      merchant_id = excluded.merchant_id, customer_id = excluded.customer_id, status = excluded.status,
      reason = excluded.reason, refund_reason = excluded.refund_reason,
      origin = excluded.origin, refund_trigger_kind = excluded.refund_trigger_kind,
      created_at = excluded.created_at, updated_at = excluded.updated_at`;
const DISPUTE_UPSERT = `ON CONFLICT (workflow_id, dispute_id) DO UPDATE SET order_id = excluded.order_id,
      merchant_id = excluded.merchant_id, customer_id = excluded.customer_id, status = excluded.status,
      plan = excluded.plan, waiting_on = excluded.waiting_on, next_due_at = excluded.next_due_at,
      next_timer = excluded.next_timer, due_sort = excluded.due_sort, opened_at = excluded.opened_at,
      updated_at = excluded.updated_at`;

/**
 * Everything of a commit after the workflow row (CTE `w`, one row when written). Parameters: $1..$9 the
 * workflow, $10 the expected version, $11..$15 deadlines, $16..$23 audit, $24..$32 outbox, $33..$41 cancel
 * orders, $42..$45 the command, $46 the effect it completes, $47 machine version, $48 audit seq, $49 the
 * audit seq the stored row must have, $50 the command's scope, $51 observedAt, $52..$53 the cancel orders'
 * customer and refund reason, $54..$65 disputes.
 */
const commitTail = (s: string) => `,
  -- The complete deadline set: ids not in it are deleted; new ones inserted; changed ones rewritten.
  -- A kept deadline keeps its lease: a worker may be firing it right now.
  removed_deadlines AS (
    DELETE FROM ${s}.deadlines
    WHERE workflow_id = $1 AND NOT (deadline_id = ANY ($11::text[])) AND EXISTS (SELECT FROM w)),
  deadlines AS (
    INSERT INTO ${s}.deadlines AS t (deadline_id, workflow_id, actor_path, timer, event_type, due_at)
    SELECT d.deadline_id, $1, d.actor_path, d.timer, d.event_type, d.due_at
    FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[])
      AS d (deadline_id, actor_path, timer, event_type, due_at)
    WHERE EXISTS (SELECT FROM w)
    ${DEADLINE_UPSERT}),
  audit AS (
    INSERT INTO ${s}.audit (workflow_id, seq, at, role, actor_id, event_type, event, resulting_state, command_id)
    SELECT $1, a.seq, a.at, a.role, a.actor_id, a.event_type, a.event::jsonb, a.resulting_state::jsonb, a.command_id
    FROM unnest($16::integer[], $17::bigint[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
      $23::text[]) AS a (seq, at, role, actor_id, event_type, event, resulting_state, command_id)
    WHERE EXISTS (SELECT FROM w)),
  -- An existing effect id is left as it is (idempotent).
  effects AS (
    INSERT INTO ${s}.outbox (effect_id, workflow_id, kind, idempotency_key, payload, status, attempts,
      available_at, last_error, created_at)
    SELECT o.effect_id, $1, o.kind, o.idempotency_key, o.payload::jsonb, o.status, o.attempts, o.available_at,
      o.last_error, o.created_at
    FROM unnest($24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::integer[], $30::bigint[],
      $31::text[], $32::bigint[])
      AS o (effect_id, kind, idempotency_key, payload, status, attempts, available_at, last_error, created_at)
    WHERE EXISTS (SELECT FROM w)
    ON CONFLICT (effect_id) DO NOTHING),
  cancel_orders AS (
    INSERT INTO ${s}.cancel_orders (${CANCEL_ORDER_COLUMNS})
    SELECT c.cancellation_id, $1, c.order_id, c.merchant_id, c.customer_id, c.status, c.reason, c.refund_reason,
      c.origin, c.refund_trigger_kind, c.created_at, c.updated_at
    FROM unnest($33::text[], $34::text[], $35::text[], $36::text[], $37::text[], $38::text[], $39::text[],
      $40::bigint[], $41::bigint[], $52::text[], $53::text[])
      AS c (cancellation_id, order_id, merchant_id, status, reason, origin, refund_trigger_kind, created_at,
        updated_at, customer_id, refund_reason)
    WHERE EXISTS (SELECT FROM w)
    ${CANCEL_ORDER_UPSERT}),
  disputes AS (
    INSERT INTO ${s}.disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
      next_due_at, next_timer, due_sort, opened_at, updated_at)
    SELECT $1, d.dispute_id, d.order_id, d.merchant_id, d.customer_id, d.status, d.plan, d.waiting_on, d.next_due_at,
      d.next_timer, d.due_sort, d.opened_at, d.updated_at
    FROM unnest($54::text[], $55::text[], $56::text[], $57::text[], $58::text[], $59::text[], $60::text[],
      $61::bigint[], $62::text[], $63::bigint[], $64::bigint[], $65::bigint[])
      AS d (dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on, next_due_at, next_timer,
        due_sort, opened_at, updated_at)
    WHERE EXISTS (SELECT FROM w)
    ${DISPUTE_UPSERT}),
  -- No ON CONFLICT: a known command id is a unique violation (commands_pkey) and fails the statement.
  command AS (
    INSERT INTO ${s}.commands (workflow_id, scope, command_id, payload_hash, result, at)
    SELECT $1, $50::text, $42::text, $43::text, $44::jsonb, $45::bigint
    WHERE $42::text IS NOT NULL AND EXISTS (SELECT FROM w)),
  completed AS (
    UPDATE ${s}.outbox SET status = 'done', claimed_by = NULL, claim_expires_at = NULL
    WHERE effect_id = $46::text AND EXISTS (SELECT FROM w))
  SELECT count(*)::integer AS written FROM w`;

/**
 * A parameter holding one JSON array text, as a jsonb[] of its elements in order: JSON columns of many rows
 * go over the wire as one text, which the server parses once (a text[] of JSON would be escaped element by
 * element on the client).
 */
const jsonArray = (param: `$${number}`) => `ARRAY(SELECT e FROM jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS x (e, n) ORDER BY n)`;

/** The parameters of `commitMany` sent as one JSON array text each. */
const COMMIT_MANY_JSON_PARAMS = new Set([5, 13, 33, 34, 40]);

/**
 * Several commits for distinct workflows as ONE statement (one round trip, one implicit transaction):
 * the same parts as `commitCreate`/`commitUpdate`, over arrays: $1–$20 hold one element per commit (the
 * one-commit statement's $1–$10 and $42–$51), then each table's columns (`*Columns`, in the one-commit
 * statement's order) with the workflow id in front; JSON columns come as one JSON array each (`jsonArray`).
 * Each commit's workflow write is gated as in the one-commit statement (expected version, audit seq,
 * command not recorded), and every other part of a commit is written only when its workflow row was: a
 * refused commit writes nothing, the others are written. A unique violation fails the whole statement
 * (the caller then writes the commits one by one).
 */
const commitMany = (s: string) => `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], ${jsonArray('$5')}, $6::text[], $7::bigint[],
      $8::bigint[], $9::bigint[], $10::integer[], $11::text[], $12::text[], ${jsonArray('$13')}, $14::bigint[],
      $15::text[], $16::integer[], $17::integer[], $18::integer[], $19::text[], $20::bigint[])
      AS i (workflow_id, order_id, merchant_id, version, snapshot, status, last_event_at, created_at, updated_at,
        expected_version, command_id, payload_hash, result, command_at, completes_effect_id, machine_version,
        audit_seq, previous_audit_seq, scope, observed_at)),
  fresh AS (
    SELECT i.* FROM input AS i
    WHERE i.command_id IS NULL OR NOT EXISTS (
      SELECT FROM ${s}.commands AS c WHERE c.workflow_id = i.workflow_id AND c.scope = i.scope AND c.command_id = i.command_id)),
  created AS (
    INSERT INTO ${s}.workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot,
      status, last_event_at, created_at, updated_at, observed_at)
    SELECT i.workflow_id, i.order_id, i.merchant_id, i.version, i.machine_version, i.audit_seq, i.snapshot,
      i.status, i.last_event_at, i.created_at, i.updated_at, i.observed_at
    FROM fresh AS i
    WHERE i.expected_version IS NULL AND i.previous_audit_seq = 0
    ON CONFLICT (workflow_id) DO NOTHING
    RETURNING workflow_id),
  updated AS (
    UPDATE ${s}.workflows AS t SET order_id = i.order_id, merchant_id = i.merchant_id, version = i.version,
      machine_version = i.machine_version, audit_seq = i.audit_seq, snapshot = i.snapshot, status = i.status,
      last_event_at = i.last_event_at, created_at = i.created_at, updated_at = i.updated_at,
      observed_at = greatest(t.observed_at, i.observed_at)
    FROM fresh AS i
    WHERE t.workflow_id = i.workflow_id AND t.version = i.expected_version AND t.audit_seq = i.previous_audit_seq
    RETURNING t.workflow_id),
  w AS (SELECT workflow_id FROM created UNION ALL SELECT workflow_id FROM updated),
  deadline_rows AS (
    SELECT * FROM unnest($21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::bigint[])
      AS d (workflow_id, deadline_id, actor_path, timer, event_type, due_at)),
  removed_deadlines AS (
    DELETE FROM ${s}.deadlines AS t USING w
    WHERE t.workflow_id = w.workflow_id
      AND NOT EXISTS (SELECT FROM deadline_rows AS d WHERE d.workflow_id = t.workflow_id AND d.deadline_id = t.deadline_id)),
  deadlines AS (
    INSERT INTO ${s}.deadlines AS t (deadline_id, workflow_id, actor_path, timer, event_type, due_at)
    SELECT d.deadline_id, d.workflow_id, d.actor_path, d.timer, d.event_type, d.due_at
    FROM deadline_rows AS d WHERE d.workflow_id IN (SELECT workflow_id FROM w)
    ${DEADLINE_UPSERT}),
  audit AS (
    INSERT INTO ${s}.audit (workflow_id, seq, at, role, actor_id, event_type, event, resulting_state, command_id)
    SELECT a.workflow_id, a.seq, a.at, a.role, a.actor_id, a.event_type, a.event, a.resulting_state, a.command_id
    FROM unnest($27::text[], $28::integer[], $29::bigint[], $30::text[], $31::text[], $32::text[], ${jsonArray('$33')},
      ${jsonArray('$34')}, $35::text[]) AS a (workflow_id, seq, at, role, actor_id, event_type, event, resulting_state, command_id)
    WHERE a.workflow_id IN (SELECT workflow_id FROM w)),
  effects AS (
    INSERT INTO ${s}.outbox (effect_id, workflow_id, kind, idempotency_key, payload, status, attempts,
      available_at, last_error, created_at)
    SELECT o.effect_id, o.workflow_id, o.kind, o.idempotency_key, o.payload, o.status, o.attempts, o.available_at,
      o.last_error, o.created_at
    FROM unnest($36::text[], $37::text[], $38::text[], $39::text[], ${jsonArray('$40')}, $41::text[], $42::integer[],
      $43::bigint[], $44::text[], $45::bigint[])
      AS o (workflow_id, effect_id, kind, idempotency_key, payload, status, attempts, available_at, last_error, created_at)
    WHERE o.workflow_id IN (SELECT workflow_id FROM w)
    ON CONFLICT (effect_id) DO NOTHING),
  cancel_orders AS (
    INSERT INTO ${s}.cancel_orders (${CANCEL_ORDER_COLUMNS})
    SELECT c.cancellation_id, c.workflow_id, c.order_id, c.merchant_id, c.customer_id, c.status, c.reason,
      c.refund_reason, c.origin, c.refund_trigger_kind, c.created_at, c.updated_at
    FROM unnest($46::text[], $47::text[], $48::text[], $49::text[], $50::text[], $51::text[], $52::text[],
      $53::text[], $54::bigint[], $55::bigint[], $56::text[], $57::text[])
      AS c (workflow_id, cancellation_id, order_id, merchant_id, status, reason, origin, refund_trigger_kind,
        created_at, updated_at, customer_id, refund_reason)
    WHERE c.workflow_id IN (SELECT workflow_id FROM w)
    ${CANCEL_ORDER_UPSERT}),
  disputes AS (
    INSERT INTO ${s}.disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
      next_due_at, next_timer, due_sort, opened_at, updated_at)
    SELECT d.workflow_id, d.dispute_id, d.order_id, d.merchant_id, d.customer_id, d.status, d.plan, d.waiting_on,
      d.next_due_at, d.next_timer, d.due_sort, d.opened_at, d.updated_at
    FROM unnest($58::text[], $59::text[], $60::text[], $61::text[], $62::text[], $63::text[], $64::text[], $65::text[],
      $66::bigint[], $67::text[], $68::bigint[], $69::bigint[], $70::bigint[])
      AS d (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on, next_due_at,
        next_timer, due_sort, opened_at, updated_at)
    WHERE d.workflow_id IN (SELECT workflow_id FROM w)
    ${DISPUTE_UPSERT}),
  command AS (
    INSERT INTO ${s}.commands (workflow_id, scope, command_id, payload_hash, result, at)
    SELECT i.workflow_id, i.scope, i.command_id, i.payload_hash, i.result, i.command_at
    FROM input AS i WHERE i.command_id IS NOT NULL AND i.workflow_id IN (SELECT workflow_id FROM w)),
  completed AS (
    UPDATE ${s}.outbox SET status = 'done', claimed_by = NULL, claim_expires_at = NULL
    WHERE effect_id IN (SELECT i.completes_effect_id FROM input AS i
                        WHERE i.completes_effect_id IS NOT NULL AND i.workflow_id IN (SELECT workflow_id FROM w)))
  SELECT workflow_id FROM w`;

/**
 * The commit's command is not recorded yet ($42 its id, $50 its scope; no command: true). Gates the
 * workflow write, hence the whole commit: a command sent again is refused before anything is written,
 * without failing the statement (which would abort a batch's transaction). Two racing commits of one
 * command serialise on the workflow row, and the second then fails the version check.
 */
const NEW_COMMAND = (s: string) =>
  `($42::text IS NULL OR NOT EXISTS (SELECT FROM ${s}.commands AS c WHERE c.workflow_id = $1 AND c.scope = $50::text AND c.command_id = $42::text))`;

/**
 * Named statements: parsed once per pooled connection. A hash of the schema is in the name, as one pool
 * may serve several schemas (names are cut at 63 bytes, so the schema itself cannot be).
 */
function statements(schemaName: string, s: string) {
  const prefix = `jd_${createHash('sha256').update(schemaName).digest('hex').slice(0, 16)}`;
  const named = (name: string, text: string): QueryConfig => ({ name: `${prefix}_${name}`, text });
  return {
    selectWorkflow: named(
      'selectWorkflow',
      `SELECT workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot, status, last_event_at,
         created_at, updated_at
       FROM ${s}.workflows WHERE workflow_id = $1`,
    ),
    // lookup: the recorded command and the workflow in one round trip; the snapshot only when the caller
    // does not hold this version live ($4)
    lookup: named(
      'lookup',
      `SELECT w.workflow_id, w.order_id, w.merchant_id, w.version, w.machine_version, w.audit_seq,
         CASE WHEN w.version = $4::integer THEN NULL ELSE w.snapshot END AS snapshot, w.status, w.last_event_at,
         w.created_at, w.updated_at,
         c.command_id AS c_command_id, c.scope AS c_scope, c.payload_hash AS c_payload_hash, c.result AS c_result, c.at AS c_at
       FROM (VALUES (1)) AS one (x)
       LEFT JOIN ${s}.workflows AS w ON w.workflow_id = $1
       LEFT JOIN ${s}.commands AS c ON c.workflow_id = $1 AND c.scope = $2::text AND c.command_id = $3::text`,
    ),
    selectWorkflows: named(
      'selectWorkflows',
      `SELECT workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot, status, last_event_at,
         created_at, updated_at
       FROM ${s}.workflows WHERE workflow_id = ANY ($1::text[])`,
    ),
    // Why a commit wrote nothing: the workflow's version and audit seq, and whether its command is recorded.
    selectRefusal: named(
      'selectRefusal',
      `SELECT w.version, w.audit_seq,
         EXISTS (SELECT FROM ${s}.commands WHERE workflow_id = $1 AND scope = $2::text AND command_id = $3::text) AS recorded
       FROM (VALUES (1)) AS one (x) LEFT JOIN ${s}.workflows AS w ON w.workflow_id = $1`,
    ),
    // A commit is ONE statement (one round trip, one implicit transaction): the workflow row is written
    // first and every other part is gated on it, so a version conflict writes nothing; a unique violation
    // (command id, audit seq) fails the whole statement. Data-modifying CTEs all run, whoever reads them.
    commitCreate: named(
      'commitCreate',
      `WITH w AS (
         INSERT INTO ${s}.workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot,
           status, last_event_at, created_at, updated_at, observed_at)
         SELECT $1, $2, $3, $4, $47::integer, $48::integer, $5::jsonb, $6, $7, $8, $9, $51::bigint
         WHERE $10::integer IS NULL AND $49::integer = 0 -- (expectedVersion: null for a create)
           AND ${NEW_COMMAND(s)}
         ON CONFLICT (workflow_id) DO NOTHING
         RETURNING workflow_id)
       ${commitTail(s)}`,
    ),
    commitUpdate: named(
      'commitUpdate',
      `WITH w AS (
         UPDATE ${s}.workflows SET order_id = $2, merchant_id = $3, version = $4, machine_version = $47::integer,
           audit_seq = $48::integer, snapshot = $5::jsonb, status = $6, last_event_at = $7, created_at = $8,
           updated_at = $9, observed_at = greatest(observed_at, $51::bigint)
         WHERE workflow_id = $1 AND version = $10::integer AND audit_seq = $49::integer AND ${NEW_COMMAND(s)}
         RETURNING workflow_id)
       ${commitTail(s)}`,
    ),
    commitMany: named('commitMany', commitMany(s)),
    selectCommand: named(
      'selectCommand',
      `SELECT command_id, workflow_id, scope, payload_hash, result, at FROM ${s}.commands
       WHERE workflow_id = $1 AND scope = $2 AND command_id = $3`,
    ),
    completeEffect: named(
      'completeEffect',
      `UPDATE ${s}.outbox SET status = 'done', claimed_by = NULL, claim_expires_at = NULL WHERE effect_id = $1`,
    ),
    completeEffects: named(
      'completeEffects',
      `UPDATE ${s}.outbox SET status = 'done', claimed_by = NULL, claim_expires_at = NULL WHERE effect_id = ANY($1::text[])`,
    ),
    // SKIP LOCKED: concurrent claimers pass over each other's rows instead of waiting; a row whose lease was
    // taken meanwhile fails the re-checked WHERE. The claim is one statement, hence one transaction.
    claimDeadlines: named(
      'claimDeadlines',
      `UPDATE ${s}.deadlines AS d SET claimed_by = $1, claim_expires_at = $3
       FROM (SELECT deadline_id FROM ${s}.deadlines
             WHERE due_at <= $2 AND ${LEASE_FREE}
             ORDER BY due_at, deadline_id LIMIT $4
             FOR UPDATE SKIP LOCKED) AS due
       WHERE d.deadline_id = due.deadline_id
       RETURNING d.deadline_id, d.workflow_id, d.actor_path, d.timer, d.event_type, d.due_at`,
    ),
    claimOutbox: named(
      'claimOutbox',
      `UPDATE ${s}.outbox AS o SET claimed_by = $1, claim_expires_at = $3
       FROM (SELECT effect_id FROM ${s}.outbox
             WHERE status = 'pending' AND available_at <= $2 AND ${LEASE_FREE}
             ORDER BY available_at, created_at, effect_id LIMIT $4
             FOR UPDATE SKIP LOCKED) AS due
       WHERE o.effect_id = due.effect_id
       RETURNING o.effect_id, o.workflow_id, o.kind, o.idempotency_key, o.payload, o.status, o.attempts,
         o.available_at, o.last_error, o.created_at`,
    ),
    extendEffectLease: named(
      'extendEffectLease',
      `UPDATE ${s}.outbox SET claim_expires_at = $3
       WHERE effect_id = $1 AND claimed_by = $2 AND status = 'pending'`,
    ),
    recordFailure: named(
      'recordFailure',
      `UPDATE ${s}.outbox SET attempts = attempts + 1, last_error = $2, available_at = $3,
         status = CASE WHEN $4::boolean THEN 'dead' ELSE status END, claimed_by = NULL, claim_expires_at = NULL
       WHERE effect_id = $1 AND status = 'pending' AND ($5::text IS NULL OR claimed_by = $5)`,
    ),
    listDeadlines: named('listDeadlines', `SELECT ${DEADLINE_COLUMNS} FROM ${s}.deadlines WHERE workflow_id = $1 ORDER BY due_at, deadline_id`),
    listOutbox: named('listOutbox', `SELECT ${OUTBOX_COLUMNS} FROM ${s}.outbox WHERE workflow_id = $1 ORDER BY created_at, effect_id`),
    listAudit: named(
      'listAudit',
      `SELECT workflow_id, seq, at, role, actor_id, event_type, event, resulting_state, command_id
       FROM ${s}.audit WHERE workflow_id = $1 ORDER BY seq`,
    ),
    // The earliest time a claim can succeed: a leased row counts from the end of its lease (expiry < now).
    // Every row due before the first unleased one is leased: both parts are short range scans of deadlines_due.
    nextDueAt: named(
      'nextDueAt',
      `WITH free AS (SELECT due_at FROM ${s}.deadlines WHERE claimed_by IS NULL ORDER BY due_at LIMIT 1)
       SELECT least(
         (SELECT due_at FROM free),
         (SELECT min(greatest(due_at, claim_expires_at + 1)) FROM ${s}.deadlines
          WHERE claimed_by IS NOT NULL AND due_at < coalesce((SELECT due_at FROM free), 9223372036854775807))
       ) AS due_at`,
    ),
    highWaterMark: named('highWaterMark', `SELECT max(observed_at) AS mark FROM ${s}.workflows`),
  };
}

// pg returns bigint (int8) columns as strings and jsonb already parsed: rows are mapped explicitly.
type Row = Record<string, unknown>;
const text = (value: unknown) => value as string;
const textOrNull = (value: unknown) => (value ?? null) as string | null;
const int = (value: unknown) => Number(value);

const toWorkflow = (r: Row): WorkflowRecord => ({
  workflowId: text(r.workflow_id),
  orderId: text(r.order_id),
  merchantId: text(r.merchant_id),
  version: int(r.version),
  machineVersion: int(r.machine_version),
  auditSeq: int(r.audit_seq),
  snapshot: r.snapshot,
  status: r.status as WorkflowRecord['status'],
  lastEventAt: int(r.last_event_at),
  createdAt: int(r.created_at),
  updatedAt: int(r.updated_at),
});

const toDeadline = (r: Row): DeadlineRow => ({
  deadlineId: text(r.deadline_id),
  workflowId: text(r.workflow_id),
  actorPath: text(r.actor_path),
  timer: text(r.timer),
  eventType: text(r.event_type),
  dueAt: int(r.due_at),
});

const toEffect = (r: Row): OutboxRow => ({
  effectId: text(r.effect_id),
  workflowId: text(r.workflow_id),
  kind: r.kind as OutboxKind,
  idempotencyKey: text(r.idempotency_key),
  payload: r.payload,
  status: r.status as OutboxStatus,
  attempts: int(r.attempts),
  availableAt: int(r.available_at),
  lastError: textOrNull(r.last_error),
  createdAt: int(r.created_at),
});

const toAudit = (r: Row): AuditRow => ({
  workflowId: text(r.workflow_id),
  seq: int(r.seq),
  at: int(r.at),
  role: text(r.role),
  actorId: text(r.actor_id),
  eventType: text(r.event_type),
  event: r.event,
  resultingState: r.resulting_state,
  commandId: textOrNull(r.command_id),
});

const toCancelOrder = (r: Row): CancelOrderRow => ({
  cancellationId: text(r.cancellation_id),
  workflowId: text(r.workflow_id),
  orderId: text(r.order_id),
  merchantId: text(r.merchant_id),
  customerId: text(r.customer_id),
  status: text(r.status),
  reason: text(r.reason),
  refundReason: textOrNull(r.refund_reason),
  origin: text(r.origin),
  refundTriggerKind: textOrNull(r.refund_trigger_kind),
  createdAt: int(r.created_at),
  updatedAt: int(r.updated_at),
});

const toDispute = (r: Row): DisputeRow => ({
  disputeId: text(r.dispute_id),
  workflowId: text(r.workflow_id),
  orderId: text(r.order_id),
  merchantId: text(r.merchant_id),
  customerId: text(r.customer_id),
  status: text(r.status),
  plan: textOrNull(r.plan),
  waitingOn: textOrNull(r.waiting_on),
  nextDueAt: r.next_due_at == null ? null : int(r.next_due_at),
  nextTimer: textOrNull(r.next_timer),
  openedAt: int(r.opened_at),
  updatedAt: int(r.updated_at),
});

const toCommand = (r: Row): CommandRow => ({
  commandId: text(r.command_id),
  workflowId: text(r.workflow_id),
  scope: r.scope as CommandScope,
  payloadHash: text(r.payload_hash),
  result: r.result,
  at: int(r.at),
});

/** A commit's columns in the order of the commit statements' parameters, per table (one row each). */
const workflowHeadColumns = (commit: Commit, texts: CommitJson): unknown[] => {
  const { workflow } = commit;
  return [
    workflow.workflowId,
    workflow.orderId,
    workflow.merchantId,
    workflow.version,
    texts.snapshot,
    workflow.status,
    workflow.lastEventAt,
    workflow.createdAt,
    workflow.updatedAt,
    commit.expectedVersion,
  ];
};
const workflowTailColumns = (commit: Commit, texts: CommitJson): unknown[] => {
  const { workflow, command } = commit;
  return [
    command?.commandId ?? null,
    command?.payloadHash ?? null,
    texts.commandResult,
    command?.at ?? null,
    commit.completesEffectId,
    workflow.machineVersion,
    workflow.auditSeq,
    previousAuditSeq(commit),
    command?.scope ?? null,
    commit.observedAt,
  ];
};
const deadlineColumns = (row: DeadlineRow): unknown[] => [row.deadlineId, row.actorPath, row.timer, row.eventType, row.dueAt];
const auditColumns = (row: AuditRow, text: CommitJson['audit'][number]): unknown[] => [
  row.seq,
  row.at,
  row.role,
  row.actorId,
  row.eventType,
  text.event,
  text.resultingState,
  row.commandId,
];
const effectColumns = (row: OutboxRow, payload: string): unknown[] => [
  row.effectId,
  row.kind,
  row.idempotencyKey,
  payload,
  row.status,
  row.attempts,
  row.availableAt,
  row.lastError,
  row.createdAt,
];
/** The one-commit statement takes the last two ($52, $53) apart from the others ($33–$41). */
const cancelOrderColumns = (row: CancelOrderRow): unknown[] => [
  row.cancellationId,
  row.orderId,
  row.merchantId,
  row.status,
  row.reason,
  row.origin,
  row.refundTriggerKind,
  row.createdAt,
  row.updatedAt,
  row.customerId,
  row.refundReason,
];
const disputeColumns = (row: DisputeRow): unknown[] => [
  row.disputeId,
  row.orderId,
  row.merchantId,
  row.customerId,
  row.status,
  row.plan,
  row.waitingOn,
  row.nextDueAt,
  row.nextTimer,
  disputeSortKey(row),
  row.openedAt,
  row.updatedAt,
];

/** Rows as their columns: one array per column, `width` of them (each empty when there are no rows). */
const transpose = (rows: unknown[][], width: number): unknown[][] =>
  Array.from({ length: width }, (_, column) => rows.map((row) => row[column]));

/** The rows of a commit that its statements write (a key given twice: its last row). */
const commitRows = (commit: Commit, texts: CommitJson) => ({
  deadlines: lastByKey(commit.deadlines, (row) => row.deadlineId).map(deadlineColumns),
  audit: commit.audit.map((row, index) => auditColumns(row, texts.audit[index]!)),
  effects: commit.outbox.map((row, index) => effectColumns(row, texts.outbox[index]!)),
  cancelOrders: lastByKey(commit.cancelOrders, (row) => row.cancellationId).map(cancelOrderColumns),
  disputes: lastByKey(commit.disputes ?? [], (row) => row.disputeId).map(disputeColumns),
});

/**
 * SQLSTATE classes and codes that mean "the store is not available right now": the connection failed
 * (08), the server is shutting down or starting (57P01..57P03), a timeout cancelled the statement
 * (57014 statement_timeout, 55P03 lock_timeout), the server lacks resources (53), a system or I/O
 * error (58), a transaction lost a race it may win on retry (40001, 40P01), a standby refuses writes
 * after a failover (25006).
 */
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[123]|57014|55P03|53...|58...|40001|40P01|25006)$/;
/** A deadlock or serialization failure: the server rolled the statement back, nothing of it was written. */
const ROLLED_BACK_SQLSTATES = /^(40001|40P01)$/;
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/** node-postgres reports these without a code. */
const UNAVAILABLE_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Connection terminated/, 'CONNECTION_TERMINATED'],
  [/^Query read timeout$/, 'QUERY_TIMEOUT'],
  [/timeout exceeded when trying to connect|connection timeout/i, 'CONNECT_TIMEOUT'],
  [/is not queryable|Client was closed and is not queryable/, 'CONNECTION_LOST'],
];

/** The one typed, retryable error for a store that is not available; any other error as it is. */
function storeError(error: unknown, operation: string): unknown {
  if (!(error instanceof Error) || error instanceof WorkflowError) return error;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_ERRNOS.has(code))) {
    return new StoreUnavailableError('postgres', operation, code, { cause: error });
  }
  // A connection that could not be opened reports an AggregateError of every address tried.
  if (error instanceof AggregateError && error.errors.some((inner) => storeError(inner, operation) !== inner)) {
    return new StoreUnavailableError('postgres', operation, (error.errors[0] as { code?: string })?.code ?? null, {
      cause: error,
    });
  }
  for (const [pattern, driverCode] of UNAVAILABLE_MESSAGES) {
    if (pattern.test(error.message)) return new StoreUnavailableError('postgres', operation, driverCode, { cause: error });
  }
  return error;
}

const isUniqueViolation = (error: unknown, constraint: string): boolean =>
  error instanceof Error &&
  (error as Error & { code?: string }).code === '23505' &&
  (error as Error & { constraint?: string }).constraint === constraint;

/**
 * WorkflowStore on PostgreSQL (node-postgres). Safe for many workers on one database: optimistic
 * concurrency on `version`, claims leased with `FOR UPDATE SKIP LOCKED`. Call `migrate()` on start.
 */
export function createPostgresStore(
  options: PostgresStoreOptions,
): WorkflowStore & BatchCommitStore & BatchEffectStore & RefusalStore & LookupStore & BatchLoadStore {
  const refusalLogCap = refusalCap(options.refusalLogCap);
  const schemaName = options.schema ?? 'jd_dispute';
  if (!SCHEMA_NAME.test(schemaName)) throw new RangeError(`invalid schema name ${JSON.stringify(schemaName)}`);
  const s = `"${schemaName}"`;
  const q = statements(schemaName, s);
  const settings = {
    statementTimeoutMs: options.statementTimeoutMs ?? POSTGRES_STORE_DEFAULTS.statementTimeoutMs,
    lockTimeoutMs: options.lockTimeoutMs ?? POSTGRES_STORE_DEFAULTS.lockTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? POSTGRES_STORE_DEFAULTS.connectTimeoutMs,
    maxConnections: options.maxConnections ?? POSTGRES_STORE_DEFAULTS.maxConnections,
    applicationName: options.applicationName ?? POSTGRES_STORE_DEFAULTS.applicationName,
  };
  const queryTimeoutMs = options.queryTimeoutMs ?? settings.statementTimeoutMs + 5_000;

  const ownsPool = options.pool === undefined;
  let ended: Promise<void> | undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: settings.maxConnections,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      keepAlive: true,
      application_name: settings.applicationName,
      // Server-side limits, sent when each connection starts: no extra round trip per statement.
      statement_timeout: settings.statementTimeoutMs,
      lock_timeout: settings.lockTimeoutMs,
    });
  // An idle pooled connection that dies (server restart) must not crash the process; the next query
  // gets a fresh connection and reports any lasting problem.
  if (ownsPool) pool.on('error', () => {});

  /** One statement; `query_timeout` (client side) gives up on a connection that stopped answering. */
  const run = async (config: QueryConfig, values: unknown[], client: Pool | PoolClient = pool) =>
    (await client.query<Row>({ ...config, values, query_timeout: queryTimeoutMs } as QueryConfig)).rows;
  /** One statement; how many rows it changed. */
  const runCount = async (config: QueryConfig, values: unknown[]) =>
    (await pool.query({ ...config, values, query_timeout: queryTimeoutMs } as QueryConfig)).rowCount ?? 0;
  const control = (client: PoolClient, text: string) => client.query({ text, query_timeout: queryTimeoutMs } as QueryConfig);

  /** Runs `work` as one operation: a store that is not available surfaces as StoreUnavailableError. */
  async function guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw storeError(error, operation);
    }
  }

  /**
   * A checked-out connection, with an 'error' listener for as long as we hold it: a connection lost
   * between two statements fails this transaction (the next statement rejects), never the process.
   * `work` tells whether the connection is clean; a broken or doubtful one is discarded, not pooled.
   */
  async function withClient<T>(work: (client: PoolClient) => Promise<{ result: T; clean: boolean }>): Promise<T> {
    const client = await pool.connect();
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost ??= error;
    };
    client.on('error', onError);
    let clean = false;
    try {
      const outcome = await work(client);
      clean = outcome.clean;
      return outcome.result;
    } finally {
      client.removeListener('error', onError);
      // An error after the last answer changes nothing done: the connection is only not reused.
      client.release(clean && !lost ? undefined : (lost ?? true));
    }
  }

  /** BEGIN, work, COMMIT; on any error ROLLBACK (discarding the connection if that fails too) and rethrow. */
  async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withClient(async (client) => {
      try {
        await control(client, 'BEGIN');
        const result = await work(client);
        await control(client, 'COMMIT');
        return { result, clean: true };
      } catch (error) {
        await control(client, 'ROLLBACK').catch(() => {
          throw error; // the connection is gone or doubtful: withClient discards it
        });
        throw error;
      }
    });
  }

  /**
   * Writes one commit (JSON fields go over the wire as the checked text, cast to jsonb: pg would turn a
   * JS array into a SQL array): resolves to null, or to the refusal (version conflict, audit trail mismatch)
   * decided after a statement that succeeded and wrote nothing. A failed statement throws.
   */
  async function writeCommit(commit: Commit, texts: CommitJson, client: Pool | PoolClient = pool): Promise<Error | null> {
    const rows = commitRows(commit, texts);
    const cancelOrders = transpose(rows.cancelOrders, 11);
    const values = [
      ...workflowHeadColumns(commit, texts),
      ...transpose(rows.deadlines, 5),
      ...transpose(rows.audit, 8),
      ...transpose(rows.effects, 9),
      ...cancelOrders.slice(0, 9),
      ...workflowTailColumns(commit, texts),
      ...cancelOrders.slice(9),
      ...transpose(rows.disputes, 12),
    ];
    let written: number;
    try {
      const [row] = await run(commit.expectedVersion === null ? q.commitCreate : q.commitUpdate, values, client);
      written = int(row?.written);
    } catch (error) {
      if (commit.command && isUniqueViolation(error, 'commands_pkey')) throw new DuplicateCommandError(commit.command.commandId);
      throw error;
    }
    // Racing commits serialise on the workflow row; the loser's gated writes did nothing.
    return written === 0 ? refusalOf(commit, client) : null;
  }

  /** Why a commit whose gated statement wrote nothing was refused. */
  async function refusalOf(commit: Commit, client: Pool | PoolClient = pool): Promise<Error> {
    const { workflow, command } = commit;
    const [current] = await run(q.selectRefusal, [workflow.workflowId, command?.scope ?? null, command?.commandId ?? null], client);
    if (command && current?.recorded === true) return new DuplicateCommandError(command.commandId);
    const version = current?.version === null || current?.version === undefined ? null : int(current.version);
    if (version !== null && version === commit.expectedVersion) return auditSeqMismatch(commit, int(current!.audit_seq));
    return new VersionConflictError(workflow.workflowId, commit.expectedVersion, version);
  }

  /**
   * Commits of distinct workflows in one statement (`commitMany`): resolves to the ids of the workflows
   * written; the rest were refused and wrote nothing. A failed statement throws and wrote nothing.
   */
  async function writeMany(checked: ReadonlyArray<{ commit: Commit; texts: CommitJson }>): Promise<Set<string>> {
    const columns: unknown[][] = Array.from({ length: 70 }, () => []);
    const push = (from: number, ...row: unknown[]) => {
      for (const [offset, value] of row.entries()) columns[from + offset]!.push(value);
    };
    for (const { commit, texts } of checked) {
      const id = commit.workflow.workflowId;
      push(0, ...workflowHeadColumns(commit, texts), ...workflowTailColumns(commit, texts));
      const rows = commitRows(commit, texts);
      for (const row of rows.deadlines) push(20, id, ...row);
      for (const row of rows.audit) push(26, id, ...row);
      for (const row of rows.effects) push(35, id, ...row);
      for (const row of rows.cancelOrders) push(45, id, ...row);
      for (const row of rows.disputes) push(57, id, ...row);
    }
    const values = columns.map((column, index) =>
      COMMIT_MANY_JSON_PARAMS.has(index + 1) ? `[${(column as Array<string | null>).map((json) => json ?? 'null').join(',')}]` : column,
    );
    const rows = await run(q.commitMany, values);
    return new Set(rows.map((row) => text(row.workflow_id)));
  }

  /** A statement per shape of query, named so that each connection parses and plans it once. */
  const shaped = (text: string): QueryConfig => ({
    name: `jd_q_${createHash('sha256').update(schemaName).update(text).digest('hex').slice(0, 40)}`,
    text,
  });

  type BatchOutcome = 'written' | 'not one statement' | 'failed';

  /**
   * `commitAll` as one statement when its commits are for distinct workflows: fills `outcomes`. 'not one
   * statement' (a workflow twice) and 'failed' (a unique violation; a deadlock with another batch, should
   * a plan lock its rows out of input order) wrote nothing. A store that is not available throws.
   */
  async function commitInOneStatement(commits: readonly Commit[], outcomes: unknown[]): Promise<BatchOutcome> {
    if (new Set(commits.map((commit) => commit.workflow.workflowId)).size < commits.length) return 'not one statement';
    const checked: Array<{ commit: Commit; texts: CommitJson; index: number }> = [];
    for (const [index, commit] of commits.entries()) {
      try {
        checked.push({ commit, texts: assertCommitShape(commit), index });
      } catch (error) {
        outcomes[index] = error;
      }
    }
    if (checked.length === 0) return 'written';
    let written: Set<string>;
    try {
      // in workflow id order: two batches that share workflows lock them in the same order (the plan
      // updates the workflow rows in the order of its input)
      written = await writeMany(checked.sort((a, b) => compareText(a.commit.workflow.workflowId, b.commit.workflow.workflowId)));
    } catch (error) {
      const failure = storeError(error, 'commitAll');
      if (failure instanceof StoreUnavailableError && !ROLLED_BACK_SQLSTATES.test(String((error as { code?: unknown }).code))) throw failure;
      return 'failed';
    }
    for (const { commit, index } of checked) {
      if (!written.has(commit.workflow.workflowId)) outcomes[index] = await guard('commitAll', () => refusalOf(commit));
    }
    return 'written';
  }

  /** `commitAll` as one transaction, a statement per commit in workflow id order. */
  async function commitInOneTransaction(commits: readonly Commit[], outcomes: unknown[]): Promise<'written' | 'failed'> {
    const order = commits
      .map((commit, index) => ({ id: commit.workflow.workflowId, index }))
      .sort((a, b) => compareText(a.id, b.id) || a.index - b.index);
    return guard('commitAll', () =>
      withClient(async (client) => {
        await control(client, 'BEGIN');
        for (const { index } of order) {
          const commit = commits[index]!;
          let texts: CommitJson;
          try {
            texts = assertCommitShape(commit);
          } catch (error) {
            outcomes[index] = error;
            continue;
          }
          try {
            outcomes[index] = await writeCommit(commit, texts, client);
          } catch (error) {
            if (storeError(error, 'commitAll') instanceof StoreUnavailableError) throw error;
            await control(client, 'ROLLBACK');
            return { result: 'failed' as const, clean: true };
          }
        }
        await control(client, 'COMMIT');
        return { result: 'written' as const, clean: true };
      }),
    );
  }

  const claimValues = (claim: Claim) => [claim.workerId, claim.now, claim.now + claim.leaseMs, claim.limit];

  return {
    async migrate() {
      const all = postgresMigrations(s);
      await guard('migrate', () =>
        inTransaction(async (client) => {
          // A migration may rewrite big tables, and waits for a worker that migrates right now.
          await client.query(`SET LOCAL statement_timeout = 0`);
          await client.query(`SET LOCAL lock_timeout = 0`);
          // Concurrent workers starting together migrate one after the other.
          await client.query(`SELECT pg_advisory_xact_lock(hashtext('jd_dispute.migrate'), hashtext($1))`, [schemaName]);
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
          await client.query(
            `CREATE TABLE IF NOT EXISTS ${s}.schema_version (
               singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
               version integer NOT NULL)`,
          );
          const [row] = (await client.query<Row>(`SELECT version FROM ${s}.schema_version`)).rows;
          const applied = row ? int(row.version) : 0;
          if (applied > all.length) {
            throw new Error(`database schema version ${applied} is newer than this package (${all.length})`);
          }
          if (applied === all.length) return;
          for (const sql of all.slice(applied)) await client.query(sql);
          await client.query(
            `INSERT INTO ${s}.schema_version (singleton, version) VALUES (true, $1)
             ON CONFLICT (singleton) DO UPDATE SET version = excluded.version`,
            [all.length],
          );
        }),
      );
    },

    async recordRefusal(row) {
      const r = storableRefusal(row);
      // One statement, so one transaction: the insert, and the trim of the workflow's log to the cap (the
      // DELETE does not see the new row: it keeps the newest cap - 1 of the others).
      await guard('recordRefusal', () =>
        run(
          {
            text: `WITH added AS (
                     INSERT INTO ${s}.refusals (workflow_id, at, role, actor_id, event_type, code, message)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING refusal_id)
                   DELETE FROM ${s}.refusals WHERE workflow_id = $1 AND refusal_id <=
                     (SELECT refusal_id FROM ${s}.refusals WHERE workflow_id = $1 ORDER BY refusal_id DESC LIMIT 1 OFFSET $8)`,
          },
          [r.workflowId, r.at, r.role, r.actorId, r.eventType, r.code, r.message, refusalLogCap - 1],
        ),
      );
    },

    async listRefusals(workflowId) {
      if (!isStorableKey(workflowId)) return [];
      const rows = await guard('listRefusals', () =>
        run(
          {
            text: `SELECT workflow_id, at, role, actor_id, event_type, code, message
                   FROM ${s}.refusals WHERE workflow_id = $1 ORDER BY refusal_id`,
          },
          [workflowId],
        ),
      );
      return rows.map((row) => ({
        workflowId: String(row.workflow_id),
        at: Number(row.at),
        role: (row.role as string | null) ?? null,
        actorId: (row.actor_id as string | null) ?? null,
        eventType: (row.event_type as string | null) ?? null,
        code: String(row.code),
        message: String(row.message),
      }));
    },

    async load(workflowId) {
      if (!isStorableKey(workflowId)) return undefined;
      const [row] = await guard('load', () => run(q.selectWorkflow, [workflowId]));
      return row && toWorkflow(row);
    },

    async loadMany(workflowIds) {
      const wanted = [...new Set(workflowIds.filter(isStorableKey))];
      const rows = wanted.length === 0 ? [] : await guard('loadMany', () => run(q.selectWorkflows, [wanted]));
      const byId = new Map(rows.map((row) => [text(row.workflow_id), row]));
      const given = new Set<string>();
      return workflowIds.map((workflowId) => {
        const row = byId.get(workflowId);
        if (!row) return undefined;
        const record = toWorkflow(row);
        // Each record is the caller's own, as from `load` (a restore may revive its snapshot in place).
        if (given.has(workflowId)) record.snapshot = structuredClone(record.snapshot);
        given.add(workflowId);
        return record;
      });
    },

    async lookup(workflowId, { command, liveVersion = null }) {
      if (command) assertCommandScope(command.scope);
      if (!isStorableKey(workflowId)) return { command: undefined, workflow: undefined };
      const wanted = command && isStorableKey(command.commandId) ? command : undefined;
      const [row] = await guard('lookup', () => run(q.lookup, [workflowId, wanted?.scope ?? null, wanted?.commandId ?? null, liveVersion]));
      if (!row) return { command: undefined, workflow: undefined };
      let workflow: WorkflowRecord | WorkflowHeader | undefined;
      if (row.workflow_id != null) {
        const { snapshot, ...header } = toWorkflow(row);
        workflow = row.snapshot === null ? header : { ...header, snapshot };
      }
      const recorded =
        row.c_command_id == null
          ? undefined
          : toCommand({
              command_id: row.c_command_id,
              workflow_id: workflowId,
              scope: row.c_scope,
              payload_hash: row.c_payload_hash,
              result: row.c_result,
              at: row.c_at,
            });
      return { command: recorded, workflow };
    },

    async commit(commit) {
      const texts = assertCommitShape(commit);
      const refusal = await guard('commit', () => writeCommit(commit, texts));
      if (refusal) throw refusal;
    },

    /**
     * Several commits, each atomic on its own, with one WAL flush for the lot; per commit, null or the
     * error that refused it (a version conflict or a command recorded before refuses one commit and writes
     * nothing of it). Commits of distinct workflows go in one statement (`commitMany`, one round trip).
     * A single commit is the one-commit statement (`commitMany` for one commit measured 0.73 of its rate:
     * its plan costs the server more than the arrays save). A batch with a workflow twice goes in one
     * transaction, one statement each, in workflow id order, so two batches lock their workflow rows in
     * the same order. A lost connection fails the whole batch with StoreUnavailableError: nothing of it is
     * written (or, when the connection broke during the commit, all of it may be: a retry then meets
     * version conflicts). A failed statement (a unique violation) writes nothing of the batch, and the
     * commits are then written one by one.
     */
    async commitAll(commits) {
      const outcomes: unknown[] = commits.map(() => null);
      if (commits.length === 0) return outcomes;
      if (commits.length === 1) {
        try {
          outcomes[0] = await writeCommit(commits[0]!, assertCommitShape(commits[0]!));
        } catch (error) {
          const failure = storeError(error, 'commitAll');
          if (failure instanceof StoreUnavailableError) throw failure;
          outcomes[0] = failure;
        }
        return outcomes;
      }
      const many = await commitInOneStatement(commits, outcomes);
      if (many === 'written') return outcomes;
      if (many === 'not one statement' && (await commitInOneTransaction(commits, outcomes)) === 'written') return outcomes;
      // a batch that failed: a statement (an implicit transaction) per commit
      for (const [index, commit] of commits.entries()) {
        try {
          const texts = assertCommitShape(commit);
          outcomes[index] = await guard('commit', () => writeCommit(commit, texts));
        } catch (error) {
          outcomes[index] = error;
        }
      }
      return outcomes;
    },

    async getCommand(workflowId, scope, commandId) {
      assertCommandScope(scope);
      if (!isStorableKey(workflowId) || !isStorableKey(commandId)) return undefined;
      const [row] = await guard('getCommand', () => run(q.selectCommand, [workflowId, scope, commandId]));
      return row && toCommand(row);
    },

    async claimDueDeadlines(claim) {
      assertClaim(claim);
      if (claim.limit < 1) return [];
      const rows = await guard('claimDueDeadlines', () => run(q.claimDeadlines, claimValues(claim)));
      return rows.map(toDeadline).sort(compareDeadlines);
    },

    async claimOutbox(claim) {
      assertClaim(claim);
      if (claim.limit < 1) return [];
      const rows = await guard('claimOutbox', () => run(q.claimOutbox, claimValues(claim)));
      return rows.map(toEffect).sort(compareEffects);
    },

    async extendEffectLease(effectId, workerId, expiresAt) {
      if (!isStorableKey(effectId)) return false;
      const result = await guard('extendEffectLease', () => runCount(q.extendEffectLease, [effectId, workerId, expiresAt]));
      return result === 1;
    },

    async recordEffectFailure(effectId, reported) {
      const failure = storableFailure(reported);
      if (!isStorableKey(effectId)) return;
      await guard('recordEffectFailure', () =>
        run(q.recordFailure, [effectId, failure.error, failure.availableAt, failure.dead, failure.workerId]),
      );
    },

    async completeEffect(effectId) {
      if (isStorableKey(effectId)) await guard('completeEffect', () => run(q.completeEffect, [effectId]));
    },

    async completeEffects(effectIds) {
      const storable = effectIds.filter(isStorableKey);
      // One statement: all of them or none.
      if (storable.length > 0) await guard('completeEffects', () => run(q.completeEffects, [storable]));
    },

    async listDeadlines(workflowId) {
      if (!isStorableKey(workflowId)) return [];
      return (await guard('listDeadlines', () => run(q.listDeadlines, [workflowId]))).map(toDeadline);
    },

    async listOutbox(workflowId) {
      if (!isStorableKey(workflowId)) return [];
      return (await guard('listOutbox', () => run(q.listOutbox, [workflowId]))).map(toEffect);
    },

    async listAudit(workflowId) {
      if (!isStorableKey(workflowId)) return [];
      return (await guard('listAudit', () => run(q.listAudit, [workflowId]))).map(toAudit);
    },

    async queryCancelOrders(raw) {
      const { size, after, ...query } = parseCancelOrderQuery(raw);
      const values: unknown[] = [];
      const where: string[] = [];
      const param = (value: unknown) => `$${values.push(value)}`;
      if (query.merchantId !== undefined) where.push(`merchant_id = ${param(query.merchantId)}`);
      if (query.customerId !== undefined) where.push(`customer_id = ${param(query.customerId)}`);
      if (query.orderId !== undefined) where.push(`order_id = ${param(query.orderId)}`);
      if (query.status !== undefined) where.push(`status = ANY (${param(query.status)}::text[])`);
      if (query.reason !== undefined) {
        const reasons = param(query.reason);
        where.push(`(reason = ANY (${reasons}::text[]) OR refund_reason = ANY (${reasons}::text[]))`);
      }
      if (query.createdFrom !== undefined) where.push(`created_at >= ${param(query.createdFrom)}`);
      if (query.createdTo !== undefined) where.push(`created_at < ${param(query.createdTo)}`);
      if (after) {
        where.push(
          `(created_at, workflow_id, cancellation_id) > (${param(after.createdAt)}, ${param(after.workflowId)}, ${param(after.cancellationId)})`,
        );
      }
      const sql = `SELECT ${CANCEL_ORDER_COLUMNS} FROM ${s}.cancel_orders
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at, workflow_id, cancellation_id LIMIT ${param(size + 1)}`;
      const rows = await guard('queryCancelOrders', () => run({ text: sql }, values));
      return toPage(rows.map(toCancelOrder), size);
    },

    async queryDisputes(raw) {
      const query = parseDisputeQuery(raw);
      const select = postgresDisputeSelect(s, query);
      const rows = await guard('queryDisputes', () => run(shaped(select.text), select.values));
      return toDisputePage(rows.map(toDispute), query.size);
    },

    async countDisputes(rawFilter, rawDueBefore) {
      const { filter, dueBefore } = parseDisputeCount(rawFilter, rawDueBefore);
      const values: unknown[] = [];
      const where: string[] = [];
      const param = (value: unknown) => `$${values.push(value)}`;
      if (filter.merchantId !== undefined) where.push(`merchant_id = ${param(filter.merchantId)}`);
      if (filter.customerId !== undefined) where.push(`customer_id = ${param(filter.customerId)}`);
      const due = dueBefore.map((time, i) => `, count(*) FILTER (WHERE due_sort < ${param(time)})::integer AS due${i}`).join('');
      const sql = `SELECT status, count(*)::integer AS count${due} FROM ${s}.disputes
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY status ORDER BY status COLLATE "C"`;
      const rows = await guard('countDisputes', () => run(shaped(sql), values));
      return rows.map(
        (row): DisputeStatusCount => ({
          status: text(row.status),
          count: int(row.count),
          dueBefore: dueBefore.map((_, i) => int(row[`due${i}`])),
        }),
      );
    },

    async nextDueAt() {
      const [row] = await guard('nextDueAt', () => run(q.nextDueAt, []));
      return row?.due_at == null ? null : int(row.due_at);
    },

    async highWaterMark() {
      const [row] = await guard('highWaterMark', () => run(q.highWaterMark, []));
      return row?.mark == null ? 0 : int(row.mark);
    },

    /** Ends the store's own pool (a pool passed in stays the caller's); a second call waits for the first. */
    async close() {
      if (ownsPool) await (ended ??= pool.end());
    },
  };
}
