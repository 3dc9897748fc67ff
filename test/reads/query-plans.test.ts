import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore, postgresDisputeSelect } from '../../src/runtime/postgres-store.js';
import { createSqliteStore, sqliteDisputeSelect } from '../../src/runtime/sqlite-store.js';
import { parseDisputeQuery } from '../../src/runtime/store-common.js';
import type { DisputeQuery } from '../../src/runtime/store.js';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';

/**
 * The work queues are index range scans: each store's plan of the statement it runs for a queue. 20,000
 * disputes of 200 merchants (50 waiting on each) and one merchant 2,000 behind; bench/metrics/queues.ts
 * measures the same on 1,000,000 (docs/performance.md).
 */

const ROWS = 20_000;
const MERCHANTS = 200;
const BEHIND = 2_000;
const T0 = 1_800_000_000_000;

/** Row n (an integer expression): as in the bench, half of each merchant's rows wait on it. */
const rowValues = (n: string) => `'w-' || ${n}, 'd-' || ${n}, 'o-' || ${n}, 'm-' || (${n} % ${MERCHANTS}), 'c-' || (${n} % 777),
  CASE (${n} / ${MERCHANTS}) % 2 WHEN 0 THEN 'awaitingMerchantChoice' ELSE 'awaitingPlatformRuling' END, NULL,
  CASE (${n} / ${MERCHANTS}) % 2 WHEN 0 THEN 'merchant' ELSE 'platform' END,
  ${T0} + (${n} * 7919) % 172800000, 'merchantResponseWindow', ${T0} + (${n} * 7919) % 172800000, ${T0}, ${T0}`;
const behindValues = (n: string) => `'bw-' || ${n}, 'd-' || ${n}, 'bo-' || ${n}, 'm-behind', 'c-1', 'awaitingMerchantChoice', NULL,
  'merchant', ${T0} + ${n}, 'merchantResponseWindow', ${T0} + ${n}, ${T0}, ${T0}`;
const workflowValues = (prefix: string, merchant: string, n: string) =>
  `'${prefix}w-' || ${n}, '${prefix}o-' || ${n}, ${merchant}, 1, 2, 0, '{}', 'active', ${T0}, ${T0}, ${T0}, ${T0}`;
const WORKFLOW_COLUMNS = `workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot, status,
  last_event_at, created_at, updated_at, observed_at`;

describe('work queue query plans', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('SQLite: each queue reads one range of its index in listing order (no temporary b-tree for the ORDER BY)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jd-plans-'));
    dirs.push(dir);
    const filename = join(dir, 'plans.db');
    const store = createSqliteStore({ filename });
    await store.migrate();
    const db = new Database(filename);
    const seq = (count: number) => `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${count - 1})`;
    db.exec(`BEGIN;
      ${seq(ROWS)} INSERT INTO workflows (${WORKFLOW_COLUMNS}) SELECT ${workflowValues('', `'m-' || (n % ${MERCHANTS})`, 'n')} FROM seq;
      ${seq(ROWS)} INSERT INTO disputes SELECT ${rowValues('n')} FROM seq;
      ${seq(BEHIND)} INSERT INTO workflows (${WORKFLOW_COLUMNS}) SELECT ${workflowValues('b', `'m-behind'`, 'n')} FROM seq;
      ${seq(BEHIND)} INSERT INTO disputes SELECT ${behindValues('n')} FROM seq;
      COMMIT; ANALYZE;`);
    const plan = (query: DisputeQuery) => {
      const { sql, params } = sqliteDisputeSelect(parseDisputeQuery(query));
      return db
        .prepare<[Record<string, unknown>], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(params)
        .map((row) => row.detail);
    };
    const queue = await store.queryDisputes({ merchantId: 'm-42', waitingOn: ['merchant'] });

    expect(queue.items).toHaveLength(50);
    expect(plan({ merchantId: 'm-42', waitingOn: ['merchant'] })).toEqual([
      'SEARCH disputes USING INDEX disputes_merchant_queue (merchant_id=? AND waiting_on=?)',
    ]);
    const behind = await store.queryDisputes({ merchantId: 'm-behind', waitingOn: ['merchant'] });
    expect(behind.nextCursor).not.toBeNull();
    expect(plan({ merchantId: 'm-behind', waitingOn: ['merchant'], cursor: behind.nextCursor })).toEqual([
      'SEARCH disputes USING INDEX disputes_merchant_queue (merchant_id=? AND waiting_on=? AND (due_sort,workflow_id,dispute_id)>(?,?,?))',
    ]);
    expect(plan({ merchantId: 'm-behind', waitingOn: ['merchant'], dueBefore: T0 + 1000 })).toEqual([
      'SEARCH disputes USING INDEX disputes_merchant_queue (merchant_id=? AND waiting_on=? AND due_sort<?)',
    ]);
    expect(plan({ merchantId: 'm-42' })).toEqual(['SEARCH disputes USING INDEX disputes_merchant (merchant_id=?)']);
    expect(plan({ customerId: 'c-1' })).toEqual(['SEARCH disputes USING INDEX disputes_customer (customer_id=?)']);
    expect(plan({ waitingOn: ['platform'] })).toEqual(['SEARCH disputes USING INDEX disputes_queue (waiting_on=?)']);
    expect(plan({ dueBefore: T0 + 3_600_000 })).toEqual(['SEARCH disputes USING INDEX disputes_due (due_sort<?)']);
    db.close();
    await store.close();
  });

  it.runIf(pgUrl || requirePg)(
    "PostgreSQL: a merchant's queue is one scan of disputes_merchant_queue; a long queue walks it in order and stops after the page",
    async () => {
      const { schema, drop } = await freshSchema();
      const store = createPostgresStore({ connectionString: pgUrl, schema });
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await store.migrate();
        const s = `"${schema}"`;
        const series = (count: number) => `generate_series(0::bigint, ${count - 1}) AS n`;
        await client.query(
          `INSERT INTO ${s}.workflows (${WORKFLOW_COLUMNS}) SELECT ${workflowValues('', `'m-' || (n % ${MERCHANTS})`, 'n')} FROM ${series(ROWS)}`,
        );
        await client.query(`INSERT INTO ${s}.disputes SELECT ${rowValues('n')} FROM ${series(ROWS)}`);
        await client.query(
          `INSERT INTO ${s}.workflows (${WORKFLOW_COLUMNS}) SELECT ${workflowValues('b', `'m-behind'`, 'n')} FROM ${series(BEHIND)}`,
        );
        await client.query(`INSERT INTO ${s}.disputes SELECT ${behindValues('n')} FROM ${series(BEHIND)}`);
        await client.query(`ANALYZE ${s}.disputes`);
        const plan = async (query: DisputeQuery) => {
          const select = postgresDisputeSelect(s, parseDisputeQuery(query));
          const answer = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${select.text}`, select.values);
          return answer.rows.map((row) => row['QUERY PLAN'].trim());
        };
        const scans = (lines: string[]) => lines.filter((line) => /Scan/.test(line)).map((line) => line.replace(/^->\s*/, ''));

        expect((await store.queryDisputes({ merchantId: 'm-42', waitingOn: ['merchant'] })).items).toHaveLength(50);
        const queue = await plan({ merchantId: 'm-42', waitingOn: ['merchant'] });
        // One index range: an ordered Index Scan, or (for a queue no longer than the page) a Bitmap Index
        // Scan of the same range whose few rows are sorted in memory. Never another index, never the table.
        expect(queue.some((line) => /Index Cond: \(\(merchant_id = 'm-42'::text\) AND \(waiting_on = 'merchant'::text\)\)/.test(line))).toBe(
          true,
        );
        expect(scans(queue).filter((line) => !/^Bitmap Heap Scan on disputes$/.test(line))).toEqual([
          expect.stringMatching(/^(Bitmap Index Scan on disputes_merchant_queue|Index Scan using disputes_merchant_queue on disputes)$/),
        ]);
        const behind = await plan({ merchantId: 'm-behind', waitingOn: ['merchant'] });
        expect(scans(behind)).toEqual(['Index Scan using disputes_merchant_queue on disputes']);
        expect(behind.some((line) => /Sort/.test(line))).toBe(false);
        expect(scans(await plan({ customerId: 'c-1' }))).toEqual([expect.stringMatching(/disputes_customer/)]);
      } finally {
        await client.end();
        await store.close();
        await drop();
      }
    },
  );
});
