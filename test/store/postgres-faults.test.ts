/**
 * PostgreSQL faults, injected through a loopback TCP proxy (test/store/tcp-proxy.ts) or by the server
 * itself on this store's own backends (pg_terminate_backend, row locks): never by restarting the shared
 * server. A lost connection must fail its operation with StoreUnavailableError, never the process, and
 * leave nothing half-written; the retry must succeed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError, VersionConflictError } from '../../src/errors.js';
import { createPostgresStore, type PostgresStoreOptions } from '../../src/runtime/postgres-store.js';
import type { BatchCommitStore, Commit, WorkflowStore } from '../../src/runtime/store.js';
import { claimAt, makeCommit, makeDeadline, rejection, T0 } from '../store-contract.js';
import { host, orderInput } from '../runtime/helpers.js';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';
import { type FaultProxy, type FrontendMessage, startFaultProxy, type Verdict } from './tcp-proxy.js';

type Store = WorkflowStore & BatchCommitStore;

if (!pgUrl && !requirePg) console.warn('PostgreSQL not reachable: skipping the PostgreSQL fault tests (set JD_DISPUTE_PG_URL)');

if (!pgUrl && requirePg) {
  it('PostgreSQL is reachable (JD_DISPUTE_REQUIRE_PG=1)', () => {
    expect.fail('JD_DISPUTE_REQUIRE_PG=1 but no PostgreSQL answered: set JD_DISPUTE_PG_URL');
  });
}

describe.skipIf(!pgUrl)('PostgreSQL store under faults (loopback proxy)', () => {
  let proxy: FaultProxy;
  let admin: pg.Client;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const url = new URL(pgUrl!);
    proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port || 5432) }, url.pathname.slice(1));
    admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await admin.end();
    await proxy.close();
  });

  afterEach(async () => {
    proxy.intercept(null);
    proxy.resume();
    proxy.startingUp(false);
    await proxy.accept();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A migrated schema, a store through the proxy and a direct one to check what was written. */
  async function setup(options: Partial<PostgresStoreOptions> = {}) {
    const { schema, drop } = await freshSchema();
    const applicationName = `jd-fault-${randomBytes(4).toString('hex')}`;
    const store = createPostgresStore({
      connectionString: proxy.url,
      schema,
      applicationName,
      connectTimeoutMs: 1_000,
      ...options,
    });
    const direct = createPostgresStore({ connectionString: pgUrl, schema });
    cleanups.push(
      drop,
      () => direct.close(),
      () => store.close(),
    );
    await direct.migrate();
    return { store, direct, schema, applicationName };
  }

  /**
   * Resets (or holds) the connection that runs a transaction at the Bind of its `n`-th statement after
   * BEGIN: the server has answered the statements before it and sees nothing of this one.
   */
  function atStatementOfTransaction(n: number, verdict: Verdict, onHit?: (message: FrontendMessage) => void) {
    const counts = new Map<number, number>();
    let hit = false;
    proxy.intercept((message) => {
      if (message.type === 'Q' && /^BEGIN/i.test(message.text ?? '')) counts.set(message.connection, 0);
      const count = counts.get(message.connection);
      if (hit || count === undefined || message.type !== 'B') return 'forward';
      counts.set(message.connection, count + 1);
      if (count + 1 < n) return 'forward';
      hit = true;
      onHit?.(message);
      return verdict;
    });
  }

  /** Resets (or holds) the connection at the next Bind it sends, whatever statement it binds. */
  function atNextBind(verdict: Verdict, onHit?: (message: FrontendMessage) => void) {
    let hit = false;
    proxy.intercept((message) => {
      if (hit || message.type !== 'B') return 'forward';
      hit = true;
      onHit?.(message);
      return verdict;
    });
  }

  /**
   * 20 workflows at version 1 with a deadline each, and the batch that fires them (version 2): one
   * statement for the lot. With `twice`, the first workflow is committed again (version 3) in the same
   * batch, which takes the transaction path (a statement per commit, in workflow id order).
   */
  async function deadlineBatch(store: Store, twice = false): Promise<Commit[]> {
    const ids = Array.from({ length: 20 }, (_, i) => `wf-${String(i).padStart(2, '0')}`);
    for (const id of ids) await store.commit(makeCommit(id, 1, { deadlines: [makeDeadline(id, T0 + 1)] }));
    const batch = ids.map((id) => makeCommit(id, 2, { deadlines: [] }));
    return twice ? [...batch, makeCommit(ids[0]!, 3, { deadlines: [] })] : batch;
  }

  const lastVersion = (batch: Commit[], id: string) =>
    Math.max(...batch.filter((commit) => commit.workflow.workflowId === id).map((commit) => commit.workflow.version));

  async function expectUntouched(direct: Store, batch: Commit[]) {
    for (const commit of batch) {
      const id = commit.workflow.workflowId;
      expect(await direct.load(id), id).toMatchObject({ version: 1, auditSeq: 1 });
      expect(
        (await direct.listAudit(id)).map((row) => row.seq),
        id,
      ).toEqual([1]);
      expect(await direct.listDeadlines(id), id).toEqual([makeDeadline(id, T0 + 1)]);
    }
  }

  /** The batch failed as a lost connection and wrote nothing; once the connection flows, its retry writes it. */
  async function expectLostThenRetried(store: Store, direct: Store, batch: Commit[], error: unknown, driverCodes: string[]) {
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true, store: 'postgres', operation: 'commitAll' });
    expect(driverCodes).toContain((error as StoreUnavailableError).driverCode);
    expect((error as Error).cause).toBeInstanceOf(Error);
    await expectUntouched(direct, batch);

    proxy.intercept(null);
    proxy.resume();
    expect(await store.commitAll(batch)).toEqual(batch.map(() => null));
    for (const commit of batch) {
      const id = commit.workflow.workflowId;
      expect(await direct.load(id), id).toMatchObject({ version: lastVersion(batch, id) });
    }
  }

  it('INV4: a connection reset as a deadline batch (commitAll, one statement) is sent fails the batch with StoreUnavailableError, writes nothing, and the retry succeeds', async () => {
    const { store, direct } = await setup();
    const batch = await deadlineBatch(store);
    atNextBind('reset');

    const error = await rejection(store.commitAll(batch));

    await expectLostThenRetried(store, direct, batch, error, ['ECONNRESET', 'CONNECTION_TERMINATED']);
  });

  it('INV4: a backend the server terminates (57P01) while a deadline batch (one statement) is on its way fails that batch, never the process; the retry succeeds', async () => {
    const { store, direct, applicationName } = await setup();
    const batch = await deadlineBatch(store);
    let terminated: Promise<unknown> | undefined;
    atNextBind('hold', () => {
      terminated = admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [applicationName]);
    });

    const error = await rejection(store.commitAll(batch));
    const { rows } = (await terminated) as { rows: unknown[] };

    expect(rows.length).toBeGreaterThanOrEqual(1);
    await expectLostThenRetried(store, direct, batch, error, ['57P01', 'CONNECTION_TERMINATED', 'ECONNRESET']);
  });

  it('INV4: a connection reset in the middle of a deadline batch written a statement per commit (a workflow twice) fails the batch with StoreUnavailableError, writes nothing, and the retry succeeds', async () => {
    const { store, direct } = await setup();
    const batch = await deadlineBatch(store, true);
    atStatementOfTransaction(8, 'reset');

    const error = await rejection(store.commitAll(batch));

    await expectLostThenRetried(store, direct, batch, error, ['ECONNRESET', 'CONNECTION_TERMINATED']);
  });

  it('INV4: a backend the server terminates (57P01) in the middle of a batch written a statement per commit fails that batch, never the process; the retry succeeds', async () => {
    const { store, direct, applicationName } = await setup();
    const batch = await deadlineBatch(store, true);
    let terminated: Promise<unknown> | undefined;
    // The 5th statement is held: the backend sits idle in the open transaction, and is terminated there.
    atStatementOfTransaction(5, 'hold', () => {
      terminated = admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND state LIKE 'idle in transaction%'`,
        [applicationName],
      );
    });

    const error = await rejection(store.commitAll(batch));
    const { rows } = (await terminated) as { rows: unknown[] };

    expect(rows).toEqual([{ pg_terminate_backend: true }]);
    await expectLostThenRetried(store, direct, batch, error, ['57P01', 'CONNECTION_TERMINATED', 'ECONNRESET']);
  });

  it('INV4: a connection that stalls under a group commit holds only its group: the next groups go through the other writer, the stalled one fails with StoreUnavailableError (QUERY_TIMEOUT) having written nothing, and its orders open when sent again', async () => {
    const { store, direct } = await setup({ queryTimeoutMs: 800 });
    const { runtime } = await host({ store });
    cleanups.push(() => runtime.close());
    // the first commit statement (a group of one or a batch) is held: its connection stalls
    let stalledOn: number | undefined;
    proxy.intercept((message) => {
      if (message.type !== 'B' || !/_commit(Many|Create|Update)$/.test(message.statement ?? '') || stalledOn !== undefined) return 'forward';
      stalledOn = message.connection;
      return 'hold';
    });
    const outcomes = new Map<string, unknown>();
    const open = (orderId: string) =>
      runtime.openOrder({ input: orderInput(orderId) }).then(
        () => void outcomes.set(orderId, null),
        (error: unknown) => void outcomes.set(orderId, error),
      );

    const first = Promise.all(['o1', 'o2', 'o3'].map(open));
    for (let wait = 0; wait < 500 && stalledOn === undefined; wait += 1) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(stalledOn).toBeDefined();
    await Promise.all(['o4', 'o5', 'o6'].map(open));
    // written while the stalled group waits: at least one of the first orders is still unanswered
    for (const orderId of ['o4', 'o5', 'o6']) expect(outcomes.get(orderId), orderId).toBeNull();
    expect(['o1', 'o2', 'o3'].some((orderId) => !outcomes.has(orderId))).toBe(true);

    await first;
    proxy.reset(stalledOn!); // what it held never reaches the server
    const lost = ['o1', 'o2', 'o3'].filter((orderId) => outcomes.get(orderId) !== null);
    expect(lost.length).toBeGreaterThanOrEqual(1);
    for (const orderId of lost) {
      expect(outcomes.get(orderId), orderId).toBeInstanceOf(StoreUnavailableError);
      expect(outcomes.get(orderId), orderId).toMatchObject({ driverCode: 'QUERY_TIMEOUT', retryable: true });
      expect(await direct.load(orderId), orderId).toBeUndefined();
    }
    for (const orderId of ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'].filter((id) => !lost.includes(id))) {
      expect(await direct.load(orderId), orderId).toMatchObject({ version: 1 });
    }

    proxy.intercept(null);
    await Promise.all(lost.map(open));
    for (const orderId of lost) {
      expect(outcomes.get(orderId), orderId).toBeNull();
      expect(await direct.load(orderId), orderId).toMatchObject({ version: 1 });
    }
  });

  it('INV4: a migration cut off by a reset leaves the schema as it was, and migrating again succeeds', async () => {
    const { schema, drop } = await freshSchema();
    cleanups.push(drop);
    const store = createPostgresStore({ connectionString: proxy.url, schema, connectTimeoutMs: 1_000 });
    cleanups.push(() => store.close());
    proxy.intercept((message) => (message.type === 'Q' && /CREATE TABLE .*workflows/s.test(message.text ?? '') ? 'reset' : 'forward'));

    const error = await rejection(store.migrate());

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ operation: 'migrate' });
    const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]);
    expect(tables.rows).toEqual([]);

    proxy.intercept(null);
    await store.migrate();
    await store.commit(makeCommit('wf-1', 1));
    expect(await store.load('wf-1')).toMatchObject({ version: 1 });
  });

  it('a stalled network fails the operation with StoreUnavailableError (QUERY_TIMEOUT) after queryTimeoutMs, and the store works again once it flows', async () => {
    const { store } = await setup({ queryTimeoutMs: 400 });
    await store.commit(makeCommit('wf-1', 1));
    proxy.stall();

    const started = performance.now();
    const error = await rejection(store.load('wf-1'));
    const waitedMs = performance.now() - started;

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ driverCode: 'QUERY_TIMEOUT', operation: 'load' });
    expect(waitedMs).toBeGreaterThanOrEqual(350);
    expect(waitedMs).toBeLessThan(2_000);

    proxy.resume();
    proxy.resetAll(); // the stalled connection was given up; the next one is fresh
    expect(await store.load('wf-1')).toMatchObject({ version: 1 });
  });

  it('a server that refuses connections (ECONNREFUSED) or is starting up (57P03) gives StoreUnavailableError, and the store recovers without a restart', async () => {
    const { store } = await setup();
    await store.commit(makeCommit('wf-1', 1));

    await proxy.refuse();
    // The pooled connection may be found dead first (reset by the server going away), then none opens.
    const lost = await rejection(store.load('wf-1'));
    expect(lost).toBeInstanceOf(StoreUnavailableError);
    expect(['ECONNRESET', 'CONNECTION_TERMINATED', 'ECONNREFUSED']).toContain((lost as StoreUnavailableError).driverCode);
    const refused = await rejection(store.load('wf-1'));
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect(refused).toMatchObject({ driverCode: 'ECONNREFUSED' });

    await proxy.accept();
    proxy.startingUp(true);
    const starting = await rejection(store.claimDueDeadlines(claimAt('worker-a', T0)));
    expect(starting).toBeInstanceOf(StoreUnavailableError);
    expect(starting).toMatchObject({ driverCode: '57P03', operation: 'claimDueDeadlines' });

    proxy.startingUp(false);
    expect(await store.load('wf-1')).toMatchObject({ version: 1 });
  });

  it('a row lock held elsewhere fails a commit after lockTimeoutMs (55P03), and a statement running past statementTimeoutMs is cancelled (57014): both StoreUnavailableError', async () => {
    const { schema } = await setup();
    const locking = createPostgresStore({ connectionString: pgUrl, schema, lockTimeoutMs: 300 });
    const cancelling = createPostgresStore({ connectionString: pgUrl, schema, lockTimeoutMs: 0, statementTimeoutMs: 300 });
    cleanups.push(
      () => locking.close(),
      () => cancelling.close(),
    );
    await locking.commit(makeCommit('wf-1', 1));
    const holder = new pg.Client({ connectionString: pgUrl });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM "${schema}".workflows WHERE workflow_id = 'wf-1' FOR UPDATE`);

    for (const [store, code] of [
      [locking, '55P03'],
      [cancelling, '57014'],
    ] as const) {
      const started = performance.now();
      const error = await rejection(store.commit(makeCommit('wf-1', 2)));
      const waitedMs = performance.now() - started;
      expect(error, code).toBeInstanceOf(StoreUnavailableError);
      expect(error, code).toMatchObject({ driverCode: code, operation: 'commit' });
      expect(waitedMs, code).toBeGreaterThanOrEqual(250);
      expect(waitedMs, code).toBeLessThan(2_000);
    }

    await holder.query('ROLLBACK');
    await locking.commit(makeCommit('wf-1', 2));
    expect(await locking.load('wf-1')).toMatchObject({ version: 2 });
  });

  it('INV4/INV5: under load, with every connection reset every 40 ms for 1.5 s, the process survives, every failure is typed, nothing is half-written and every retry reaches its goal', async () => {
    const { store, direct } = await setup({ queryTimeoutMs: 2_000 });
    const workflows = Array.from({ length: 8 }, (_, i) => `load-${i}`);
    const target = 12;
    const seen = { ok: 0, unavailable: 0, conflicts: 0, other: [] as unknown[] };

    /** A writer as a runtime would be: commit the next version; on a lost answer reload and go on. */
    async function writer(id: string) {
      let version = 0;
      while (version < target) {
        const next = version + 1;
        const commit = makeCommit(id, next, { deadlines: [makeDeadline(id, T0 + next)] });
        try {
          await store.commit(commit);
          seen.ok += 1;
          version = next;
        } catch (error) {
          if (error instanceof StoreUnavailableError) seen.unavailable += 1;
          else if (error instanceof VersionConflictError) seen.conflicts += 1;
          else seen.other.push(error);
          await new Promise((resolve) => setTimeout(resolve, 10));
          // The answer was lost, not necessarily the commit: where does the workflow stand?
          version = await store.load(id).then(
            (record) => record?.version ?? 0,
            () => version,
          );
        }
      }
    }
    async function claimer(stop: () => boolean) {
      while (!stop()) {
        await store.claimDueDeadlines(claimAt('worker-load', T0, 5, 1)).catch((error: unknown) => {
          if (!(error instanceof StoreUnavailableError)) seen.other.push(error);
        });
      }
    }

    let storming = true;
    const storm = (async () => {
      const end = performance.now() + 1_500;
      while (performance.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        proxy.resetAll();
      }
      storming = false;
    })();
    let writing = true;
    const claiming = claimer(() => !writing);
    await Promise.all([storm, ...workflows.map((id) => writer(id))]);
    writing = false;
    await claiming;

    expect(seen.other).toEqual([]);
    expect(storming).toBe(false);
    expect(seen.unavailable).toBeGreaterThan(0);
    for (const id of workflows) {
      const record = await direct.load(id);
      expect(record, id).toMatchObject({ version: target, auditSeq: target });
      expect(
        (await direct.listAudit(id)).map((row) => row.seq),
        id,
      ).toEqual(Array.from({ length: target }, (_, i) => i + 1));
      expect(await direct.listDeadlines(id), id).toEqual([makeDeadline(id, T0 + target)]);
    }
    console.info(
      `fault storm: ${seen.ok} commits answered, ${seen.unavailable} StoreUnavailableError, ${seen.conflicts} version conflicts after a lost answer`,
    );
  });
});
