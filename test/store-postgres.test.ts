import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPostgresStore, postgresMigrations } from '../src/runtime/postgres-store.js';
import type { BatchCommitStore, BatchLoadStore, DeadlineRow, OutboxKind, WorkflowStore } from '../src/runtime/store.js';
import { DuplicateCommandError, InvalidPayloadError, VersionConflictError } from '../src/errors.js';
import {
  claimAt,
  countTests,
  type DefineTest,
  describeStoreContract,
  makeAudit,
  makeCancelOrder,
  makeCommand,
  makeCommit,
  makeDeadline,
  makeDispute,
  makeEffect,
  makeWorkflow,
  rejection,
  STORE_CONTRACT_TEST_COUNT,
  storedState,
  T0,
} from './store-contract.js';
import { freshSchema, pgUrl, requirePg } from './support/postgres.js';

const drops: Array<() => Promise<void>> = [];
const dropSchemas = async () => {
  for (const drop of drops.splice(0)) await drop();
};
/** A store (own pool) on a new schema, or on `schema` to share it between workers. */
async function makeStore(schema?: string): Promise<WorkflowStore & { schema: string }> {
  if (!schema) {
    const fresh = await freshSchema();
    drops.push(fresh.drop);
    schema = fresh.schema;
  }
  return Object.assign(createPostgresStore({ connectionString: pgUrl, schema }), { schema });
}

function postgresOnly(test: DefineTest): void {
  test('4 concurrent claimers on separate pools get disjoint sets of 200 due deadlines whose union is all 200', async (store) => {
    const all: DeadlineRow[] = [];
    for (let w = 0; w < 10; w += 1) {
      const deadlines = Array.from({ length: 20 }, (_, i) => makeDeadline(`wf-${w}`, T0 + i * 10 + w));
      all.push(...deadlines);
      await store.commit(makeCommit(`wf-${w}`, 1, { deadlines }));
    }
    const schema = (store as WorkflowStore & { schema: string }).schema;
    const workers = await Promise.all(Array.from({ length: 4 }, () => makeStore(schema)));
    try {
      const claimed = await Promise.all(
        workers.map(async (worker, n) => {
          const mine: string[] = [];
          for (;;) {
            const batch = await worker.claimDueDeadlines(claimAt(`worker-${n}`, T0 + 10_000, 7));
            if (batch.length === 0) return mine;
            mine.push(...batch.map((row) => row.deadlineId));
          }
        }),
      );

      const union = claimed.flat();
      expect(new Set(union).size).toBe(union.length);
      expect([...union].sort()).toEqual(all.map((row) => row.deadlineId).sort());
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
    }
  });

  test('4 workers migrating a new schema at once all succeed (advisory lock)', async () => {
    const { schema } = await freshSchema().then((fresh) => {
      drops.push(fresh.drop);
      return fresh;
    });
    const workers = await Promise.all(Array.from({ length: 4 }, () => makeStore(schema)));
    try {
      await Promise.all(workers.map((worker) => worker.migrate()));
      await workers[0]!.commit(makeCommit('wf-1', 1));
      expect(await workers[3]!.load('wf-1')).toEqual(makeCommit('wf-1', 1).workflow);
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
    }
  });

  test('X2: migration 2 re-keys cancel_orders by (workflow_id, cancellation_id) and keeps every row of a version 1 schema', async () => {
    const { schema } = await freshSchema().then((fresh) => {
      drops.push(fresh.drop);
      return fresh;
    });
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const s = `"${schema}"`;
      await client.query(postgresMigrations(s)[0]!);
      await client.query(
        `CREATE TABLE ${s}.schema_version (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)`,
      );
      await client.query(`INSERT INTO ${s}.schema_version VALUES (true, 1)`);
      await client.query(`INSERT INTO ${s}.workflows VALUES ('wf-1', 'order-wf-1', 'merchant-1', 1, '{}', 'active', $1, $1, $1)`, [T0]);
      await client.query(
        `INSERT INTO ${s}.cancel_orders VALUES ('cancel-1', 'wf-1', 'order-wf-1', 'merchant-1', 'refunded', 'changedMind',
           'customer', 'merchantAgreed', $1, $2)`,
        [T0, T0 + 5],
      );

      const migrated = await makeStore(schema);
      try {
        await migrated.migrate();
        // Migration 7 fills the customer from the workflow's snapshot (none here) and the refund reason from the trigger.
        const kept = makeCancelOrder('cancel-1', 'wf-1', {
          status: 'refunded',
          refundTriggerKind: 'merchantAgreed',
          updatedAt: T0 + 5,
          customerId: '',
          refundReason: 'changedMind',
        });
        expect(await migrated.queryCancelOrders({})).toEqual({ items: [kept], nextCursor: null });
        const other = makeCancelOrder('cancel-1', 'wf-2');
        await migrated.commit(makeCommit('wf-2', 1, { cancelOrders: [other] }));
        expect(await migrated.queryCancelOrders({})).toEqual({ items: [kept, other], nextCursor: null });
      } finally {
        await migrated.close();
      }

      const version = await client.query(`SELECT version FROM ${s}.schema_version`);
      expect(version.rows).toEqual([{ version: postgresMigrations(s).length }]);
      const key = await client.query(
        `SELECT a.attname FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = '${s}.cancel_orders'::regclass AND i.indisprimary
         ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      );
      expect(key.rows.map((row: { attname: string }) => row.attname)).toEqual(['workflow_id', 'cancellation_id']);
    } finally {
      await client.end();
    }
  });

  test('INV5: migration 3 gives every workflow of a version 2 schema machineVersion 1 and the seq of its last audit row', async () => {
    const { schema } = await freshSchema().then((fresh) => {
      drops.push(fresh.drop);
      return fresh;
    });
    const s = `"${schema}"`;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      for (const sql of postgresMigrations(s).slice(0, 2)) await client.query(sql);
      await client.query(
        `CREATE TABLE ${s}.schema_version (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)`,
      );
      await client.query(`INSERT INTO ${s}.schema_version VALUES (true, 2)`);
      const workflow = `INSERT INTO ${s}.workflows VALUES ($1, 'order-1', 'merchant-1', $2, '{}', 'active', ${T0}, ${T0}, ${T0})`;
      await client.query(workflow, ['wf-1', 3]);
      await client.query(workflow, ['wf-2', 1]);
      for (const seq of [1, 2, 3, 4]) {
        await client.query(`INSERT INTO ${s}.audit VALUES ('wf-1', $1, ${T0}, 'customer', 'c-1', 'E', '{}', '{}', NULL)`, [seq]);
      }
    } finally {
      await client.end();
    }

    const migrated = await makeStore(schema);
    try {
      await migrated.migrate();
      expect(await migrated.load('wf-1')).toMatchObject({ version: 3, machineVersion: 1, auditSeq: 4 });
      expect(await migrated.load('wf-2')).toMatchObject({ version: 1, machineVersion: 1, auditSeq: 0 });
      await migrated.commit(makeCommit('wf-1', 4, { audit: [makeAudit('wf-1', 5)] }));
      expect((await migrated.listAudit('wf-1')).map((row) => row.seq)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await migrated.close();
    }
  });

  test('INV6: migrations 4 and 6 file the earlier records of the runtime (open:<own id> as open, effect:<own id>|…) under the runtime scope, every other id under client', async () => {
    const { schema } = await freshSchema().then((fresh) => {
      drops.push(fresh.drop);
      return fresh;
    });
    const s = `"${schema}"`;
    const rows = [
      ['open:wf-1', 'wf-1', 'runtime'],
      ['effect:wf-1|refund|wf-1/d-1|1', 'wf-1', 'runtime'],
      ['effect:wf-2|refund|wf-2/d-1|1', 'wf-1', 'client'],
      ['open:wf-2', 'wf-1', 'client'],
      ['key-1', 'wf-2', 'client'],
    ] as const;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      for (const sql of postgresMigrations(s).slice(0, 3)) await client.query(sql);
      await client.query(
        `CREATE TABLE ${s}.schema_version (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)`,
      );
      await client.query(`INSERT INTO ${s}.schema_version VALUES (true, 3)`);
      for (const id of ['wf-1', 'wf-2']) {
        await client.query(`INSERT INTO ${s}.workflows VALUES ($1, 'order-1', 'merchant-1', 1, '{}', 'active', ${T0}, ${T0}, ${T0}, 1, 0)`, [
          id,
        ]);
      }
      for (const [id, workflowId] of rows) {
        await client.query(`INSERT INTO ${s}.commands VALUES ($1, $2, 'h', '{"ok":true}', ${T0})`, [id, workflowId]);
      }
    } finally {
      await client.end();
    }

    const migrated = await makeStore(schema);
    try {
      await migrated.migrate();
      for (const [stored, workflowId, scope] of rows) {
        // The runtime's opening record is 'open' in its own scope now.
        const id = scope === 'runtime' && stored === `open:${workflowId}` ? 'open' : stored;
        expect(await migrated.getCommand(workflowId, scope, id)).toEqual({
          commandId: id,
          workflowId,
          scope,
          payloadHash: 'h',
          result: { ok: true },
          at: T0,
        });
        expect(await migrated.getCommand(workflowId, scope === 'client' ? 'runtime' : 'client', id)).toBeUndefined();
      }
    } finally {
      await migrated.close();
    }
  });

  test('INV5: migration 5 starts the clock high-water mark at the latest updatedAt of a version 4 schema; every worker on the schema reads it', async () => {
    const { schema } = await freshSchema().then((fresh) => {
      drops.push(fresh.drop);
      return fresh;
    });
    const s = `"${schema}"`;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      for (const sql of postgresMigrations(s).slice(0, 4)) await client.query(sql);
      await client.query(
        `CREATE TABLE ${s}.schema_version (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)`,
      );
      await client.query(`INSERT INTO ${s}.schema_version VALUES (true, 4)`);
      for (const [id, updatedAt] of [
        ['wf-1', T0 + 700],
        ['wf-2', T0 + 300],
      ] as const) {
        await client.query(`INSERT INTO ${s}.workflows VALUES ($1, 'order-1', 'merchant-1', 1, '{}', 'active', ${T0}, ${T0}, $2, 1, 1)`, [
          id,
          updatedAt,
        ]);
      }
    } finally {
      await client.end();
    }

    const [a, b] = [await makeStore(schema), await makeStore(schema)];
    try {
      await a.migrate();
      expect(await a.highWaterMark()).toBe(T0 + 700);
      await a.commit(makeCommit('wf-3', 1, { observedAt: T0 + 800 }));
      expect(await b.highWaterMark()).toBe(T0 + 800);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a commit failing mid-way (CHECK violation in an outbox row, after the workflow, deadline and audit writes) rolls back everything (INV4)', async (store) => {
    await store.commit(makeCommit('wf-1', 1, { deadlines: [makeDeadline('wf-1', T0)] }));
    const before = await storedState(store, 'wf-1');

    const error = await rejection(
      store.commit(
        makeCommit('wf-1', 2, {
          audit: [makeAudit('wf-1', 2)],
          deadlines: [makeDeadline('wf-1', T0 + 1)],
          outbox: [makeEffect('wf-1', 'refund-1', { kind: 'bogus' as OutboxKind })],
          command: makeCommand('cmd-1', 'wf-1'),
          cancelOrders: [makeCancelOrder('cancel-1', 'wf-1')],
        }),
      ),
    );

    expect(String(error)).toMatch(/violates check constraint/);
    expect(await storedState(store, 'wf-1')).toEqual(before);
    expect(await store.getCommand('wf-1', 'client', 'cmd-1')).toBeUndefined();
  });

  test('loadMany reads what load reads, per id in the order given: unknown and unstorable ids as undefined, each record its own object', async (store) => {
    const batch = store as WorkflowStore & BatchLoadStore;
    await store.commit(makeCommit('wf-1', 1));
    await store.commit(makeCommit('wf-2', 1));
    await store.commit(makeCommit('wf-2', 2));
    const records = await batch.loadMany(['wf-2', 'nope', 'wf-1', 'bad\u0000id', 'wf-2']);
    expect(records).toEqual([await store.load('wf-2'), undefined, await store.load('wf-1'), undefined, await store.load('wf-2')]);
    expect(records[0]).not.toBe(records[4]);
    expect(records[0]!.snapshot).not.toBe(records[4]!.snapshot);
    expect(await batch.loadMany([])).toEqual([]);
  });

  /** A store on `schema` whose own pool records every statement it sends: control text or statement name. */
  function recording(schema: string) {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 1 });
    const sent: string[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
        const named = typeof config === 'object' && config !== null ? (config as { name?: string; text?: string }) : { text: String(config) };
        sent.push(named.name ? named.name.replace(/^jd_[0-9a-f]+_/, '') : (named.text ?? '').trim());
        return query(config, ...rest);
      };
    });
    const store = createPostgresStore({ pool, schema }) as WorkflowStore & BatchCommitStore;
    return {
      store,
      sent,
      close: async () => {
        await store.close();
        await pool.end();
      },
    };
  }

  test('INV4: commitAll of distinct workflows is one statement: a command sent again and a stale version are refused inside it, nothing is rolled back or rewritten one by one', async (store) => {
    const schema = (store as WorkflowStore & { schema: string }).schema;
    const batch = recording(schema);
    try {
      await store.commit(makeCommit('wf-a', 1, { command: makeCommand('cmd-1', 'wf-a') }));
      await store.commit(makeCommit('wf-b', 1));
      await store.commit(makeCommit('wf-c', 1));
      await store.commit(makeCommit('wf-c', 2));
      const before = { a: await storedState(store, 'wf-a'), c: await storedState(store, 'wf-c') };
      const outcomes = await batch.store.commitAll([
        makeCommit('wf-a', 2, { command: makeCommand('cmd-1', 'wf-a'), outbox: [makeEffect('wf-a', 'refund-1')] }),
        makeCommit('wf-b', 2, { command: makeCommand('cmd-2', 'wf-b') }),
        makeCommit('wf-c', 2, { deadlines: [makeDeadline('wf-c', T0)] }),
        makeCommit('wf-d', 1, { deadlines: [makeDeadline('wf-d', T0)] }),
      ]);
      expect(outcomes[0]).toBeInstanceOf(DuplicateCommandError);
      expect(outcomes[1]).toBeNull();
      expect(outcomes[2]).toBeInstanceOf(VersionConflictError);
      expect(outcomes[3]).toBeNull();
      // one statement for the batch, then one read per refused commit to say why
      expect(batch.sent).toEqual(['commitMany', 'selectRefusal', 'selectRefusal']);
      expect(await storedState(store, 'wf-a')).toEqual(before.a);
      expect(await storedState(store, 'wf-c')).toEqual(before.c);
      expect(await store.load('wf-b')).toMatchObject({ version: 2 });
      expect(await store.getCommand('wf-b', 'client', 'cmd-2')).toMatchObject({ commandId: 'cmd-2' });
      expect(await store.listDeadlines('wf-d')).toEqual([makeDeadline('wf-d', T0)]);
    } finally {
      await batch.close();
    }
  });

  test('INV4: commitAll of one commit is the one-commit statement, without a transaction; its refusal is its outcome', async (store) => {
    const schema = (store as WorkflowStore & { schema: string }).schema;
    const batch = recording(schema);
    try {
      await store.commit(makeCommit('wf-a', 1));
      expect(await batch.store.commitAll([makeCommit('wf-a', 2)])).toEqual([null]);
      const [stale] = await batch.store.commitAll([makeCommit('wf-a', 2)]);
      expect(stale).toBeInstanceOf(VersionConflictError);
      expect(await batch.store.commitAll([])).toEqual([]);
      // a batch whose every commit breaks the string rule is refused before anything is sent
      const unstorable = (id: string) => makeCommit(id, 1, { workflow: makeWorkflow(id, 1, { snapshot: { text: 'a\u0000b' } }) });
      const refused = await batch.store.commitAll([unstorable('wf-x'), unstorable('wf-y')]);
      expect(refused.map((outcome) => outcome instanceof InvalidPayloadError)).toEqual([true, true]);
      expect(batch.sent).toEqual(['commitUpdate', 'commitUpdate', 'selectRefusal']);
      expect(await store.load('wf-a')).toMatchObject({ version: 2 });
    } finally {
      await batch.close();
    }
  });

  test('INV4: two batch statements sharing workflows, given in opposite orders, lock them in workflow id order: the second waits for the first and refuses its stale commits, no deadlock and no rewrite one by one', async (store) => {
    const schema = (store as WorkflowStore & { schema: string }).schema;
    const first = recording(schema);
    const second = recording(schema);
    const blocker = new pg.Client({ connectionString: pgUrl });
    await blocker.connect();
    // a client of its own: inside the blocker's transaction pg_stat_activity would stay as first read
    const observer = new pg.Client({ connectionString: pgUrl });
    await observer.connect();
    const waitingOnLocks = async () =>
      Number(
        (
          await observer.query(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%unnest%'`,
          )
        ).rows[0].n,
      );
    const until = async (done: () => Promise<boolean>) => {
      for (let attempt = 0; attempt < 200 && !(await done()); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await done()).toBe(true);
    };
    try {
      // enough rows that the plan reaches the workflows through their index, one input row after the other
      // (on a table of a few rows it scans the table, in the order the rows were written)
      const filler = Array.from({ length: 2_000 }, (_, i) => makeCommit(`wf-${String(i).padStart(4, '0')}-filler`, 1));
      for (let i = 0; i < filler.length; i += 500) await (store as WorkflowStore & BatchCommitStore).commitAll(filler.slice(i, i + 500));
      await store.commit(makeCommit('wf-a', 1));
      await store.commit(makeCommit('wf-b', 1));
      await observer.query(`ANALYZE "${schema}".workflows`);
      // both rows held: each batch waits for its first row; released together, a batch that locked in its
      // own input order would hold its first row and wait for the other's (a deadlock)
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${schema}".workflows WHERE workflow_id IN ('wf-a', 'wf-b') FOR UPDATE`);
      const one = first.store.commitAll([makeCommit('wf-a', 2), makeCommit('wf-b', 2)]);
      await until(async () => (await waitingOnLocks()) === 1);
      const two = second.store.commitAll([makeCommit('wf-b', 2), makeCommit('wf-a', 2)]);
      await until(async () => (await waitingOnLocks()) === 2);
      await blocker.query('ROLLBACK');

      const outcomes = [await one, await two];
      const winner = outcomes.findIndex((batch) => batch.every((outcome) => outcome === null));
      expect(winner).toBeGreaterThanOrEqual(0);
      const loser = 1 - winner;
      expect(outcomes[loser]!.map((outcome) => outcome instanceof VersionConflictError)).toEqual([true, true]);
      expect([first, second][winner]!.sent).toEqual(['commitMany']);
      expect([first, second][loser]!.sent).toEqual(['commitMany', 'selectRefusal', 'selectRefusal']);
      expect(await store.load('wf-a')).toMatchObject({ version: 2 });
      expect(await store.load('wf-b')).toMatchObject({ version: 2 });
    } finally {
      await blocker.end();
      await observer.end();
      await first.close();
      await second.close();
    }
  });

  test('INV4: commitAll with a workflow twice is one transaction, a statement per commit; a command sent again is refused inside it without a rollback', async (store) => {
    const schema = (store as WorkflowStore & { schema: string }).schema;
    const batch = recording(schema);
    try {
      await store.commit(makeCommit('wf-a', 1, { command: makeCommand('cmd-1', 'wf-a') }));
      await store.commit(makeCommit('wf-b', 1));
      const before = await storedState(store, 'wf-a');
      const outcomes = await batch.store.commitAll([
        makeCommit('wf-a', 2, { command: makeCommand('cmd-1', 'wf-a'), outbox: [makeEffect('wf-a', 'refund-1')] }),
        makeCommit('wf-b', 2, { command: makeCommand('cmd-2', 'wf-b') }),
        makeCommit('wf-b', 3, { command: makeCommand('cmd-3', 'wf-b') }),
      ]);
      expect(outcomes).toEqual([expect.any(DuplicateCommandError), null, null]);
      expect(batch.sent.filter((sent) => /^(BEGIN|COMMIT|ROLLBACK)$/.test(sent))).toEqual(['BEGIN', 'COMMIT']);
      expect(batch.sent).not.toContain('commitMany');
      expect(await storedState(store, 'wf-a')).toEqual(before);
      expect(await store.load('wf-b')).toMatchObject({ version: 3 });
    } finally {
      await batch.close();
    }
  });

  test('INV4: commitAll in one statement writes exactly what the same commits write one by one (creates, updates, deadlines kept, changed and dropped, audit, outbox, cancel orders, disputes, commands, a completed effect)', async (store) => {
    const schema = (store as WorkflowStore & { schema: string }).schema;
    const other = await makeStore();
    await other.migrate();
    try {
      const seed = [
        makeCommit('wf-a', 1, {
          deadlines: [makeDeadline('wf-a', T0 + 1), makeDeadline('wf-a', T0 + 2, 'ruling'), makeDeadline('wf-a', T0 + 3, 'reminder')],
          outbox: [makeEffect('wf-a', 'refund-1')],
          cancelOrders: [makeCancelOrder('c1', 'wf-a')],
          disputes: [makeDispute('d1', 'wf-a')],
        }),
        makeCommit('wf-b', 1, { command: makeCommand('open', 'wf-b', 'runtime') }),
      ];
      const batch = [
        makeCommit('wf-a', 2, {
          audit: [makeAudit('wf-a', 2), makeAudit('wf-a', 3, { eventType: 'xstate.after.ruling', commandId: null })],
          // the first kept as it is, the second moved, the third dropped, a fourth new
          deadlines: [
            makeDeadline('wf-a', T0 + 1),
            { ...makeDeadline('wf-a', T0 + 2, 'ruling'), dueAt: T0 + 20 },
            makeDeadline('wf-a', T0 + 4, 'late'),
          ],
          outbox: [makeEffect('wf-a', 'refund-2', { payload: { note: '退款 "quoted" \\ {braces}', amount: 1 } })],
          cancelOrders: [makeCancelOrder('c1', 'wf-a', { status: 'REFUNDED', refundReason: null }), makeCancelOrder('c2', 'wf-a')],
          disputes: [makeDispute('d1', 'wf-a', { status: 'resolved', waitingOn: null, nextDueAt: null, nextTimer: null })],
          command: makeCommand('cmd-a', 'wf-a'),
          completesEffectId: makeEffect('wf-a', 'refund-1').effectId,
        }),
        makeCommit('wf-b', 2, { deadlines: [makeDeadline('wf-b', T0 + 5)] }),
        makeCommit('wf-c', 1, { cancelOrders: [makeCancelOrder('c1', 'wf-c')], command: makeCommand('open', 'wf-c', 'runtime') }),
      ];
      for (const commit of seed) {
        await store.commit(commit);
        await other.commit(commit);
      }
      expect(await (store as WorkflowStore & BatchCommitStore).commitAll(batch)).toEqual([null, null, null]);
      for (const commit of batch) await other.commit(commit);

      for (const id of ['wf-a', 'wf-b', 'wf-c']) {
        expect(await storedState(store, id), id).toEqual(await storedState(other, id));
        expect((await store.queryDisputes({ limit: 50 })).items, id).toEqual((await other.queryDisputes({ limit: 50 })).items);
      }
      for (const [id, scope, commandId] of [
        ['wf-a', 'client', 'cmd-a'],
        ['wf-b', 'runtime', 'open'],
        ['wf-c', 'runtime', 'open'],
      ] as const) {
        expect(await store.getCommand(id, scope, commandId), commandId).toEqual(await other.getCommand(id, scope, commandId));
        expect(await store.getCommand(id, scope, commandId), commandId).toBeDefined();
      }
      expect((await store.listOutbox('wf-a')).map((row) => [row.idempotencyKey, row.status])).toEqual([
        ['refund-1', 'done'],
        ['refund-2', 'pending'],
      ]);
      expect((await store.listDeadlines('wf-a')).map((row) => [row.timer, row.dueAt])).toEqual([
        ['interceptWindow', T0 + 1],
        ['late', T0 + 4],
        ['ruling', T0 + 20],
      ]);
      expect(schema).not.toBe((other as WorkflowStore & { schema: string }).schema);
    } finally {
      await other.close();
    }
  });

  test('INV4: a batch statement that fails (an audit seq already written) writes nothing of the batch; the commits are then written one by one and only the failing one is refused', async (store) => {
    await store.commit(makeCommit('wf-a', 1));
    await store.commit(makeCommit('wf-b', 1));
    // wf-b's commit claims to follow seq 1 but brings seq 1 again: the audit unique key fails the statement
    const clash = { ...makeCommit('wf-b', 2, { audit: [makeAudit('wf-b', 1)] }) };
    clash.workflow = { ...clash.workflow, auditSeq: 2 };
    const outcomes = await (store as WorkflowStore & BatchCommitStore).commitAll([makeCommit('wf-a', 2), clash, makeCommit('wf-c', 1)]);
    expect(outcomes[0]).toBeNull();
    expect(outcomes[1]).toBeInstanceOf(Error);
    expect(outcomes[2]).toBeNull();
    expect(await store.load('wf-a')).toMatchObject({ version: 2 });
    expect(await store.load('wf-b')).toMatchObject({ version: 1 });
    expect((await store.listAudit('wf-b')).map((row) => row.seq)).toEqual([1]);
    expect(await store.load('wf-c')).toMatchObject({ version: 1 });
  });
}

if (!pgUrl && !requirePg) {
  const skipped = STORE_CONTRACT_TEST_COUNT + countTests(postgresOnly);
  console.warn(`PostgreSQL not reachable: set JD_DISPUTE_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test); skipping ${skipped} tests`);
}

if (!pgUrl && requirePg) {
  it('PostgreSQL is reachable (JD_DISPUTE_REQUIRE_PG=1)', () => {
    expect.fail('JD_DISPUTE_REQUIRE_PG=1 but no PostgreSQL answered: set JD_DISPUTE_PG_URL');
  });
}

describe.skipIf(!pgUrl)('PostgreSQL', () => {
  describeStoreContract('PostgreSQL', () => makeStore(), dropSchemas);

  describe('PostgreSQL store', () => {
    let store: WorkflowStore | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
      await dropSchemas();
    });
    postgresOnly((title, body) =>
      it(title, async () => {
        store = await makeStore();
        await store.migrate();
        await body(store);
      }),
    );
  });
});
