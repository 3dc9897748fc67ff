/**
 * PostgreSQL for the store tests.
 *
 * `JD_DISPUTE_PG_URL` names the server, e.g. `postgres://postgres@127.0.0.1:5432/test` (CI sets it to that
 * when it is absent and a server answers). Without it we try that loopback URL for 1 s. Tests that need the
 * server use `describe.skipIf(!pgUrl)` and warn when they skip; `JD_DISPUTE_REQUIRE_PG=1` turns the skip
 * into a failure (CI).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const requirePg = process.env.JD_DISPUTE_REQUIRE_PG === '1';

async function answers(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const pgUrl: string | undefined = process.env.JD_DISPUTE_PG_URL || ((await answers(LOCAL_URL)) ? LOCAL_URL : undefined);

async function execute(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new empty schema (`t_<random>`), so parallel test files and tests never share tables. */
export async function freshSchema(): Promise<{ schema: string; drop(): Promise<void> }> {
  if (!pgUrl) throw new Error('PostgreSQL not reachable: set JD_DISPUTE_PG_URL');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await execute(`CREATE SCHEMA ${schema}`);
  return { schema, drop: () => dropSchema(schema) };
}

/** Drops a schema a test created (by its own store's migrate), if it exists. */
export const dropSchema = (schema: string): Promise<void> => execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
