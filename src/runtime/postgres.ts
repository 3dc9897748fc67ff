/**
 * The `./postgres` entry: the WorkflowStore on PostgreSQL, for one or many worker processes sharing a
 * database. Kept out of the main entry so that only applications that use PostgreSQL load `pg`
 * (an optional peer dependency).
 *
 *   import { createPostgresStore } from 'jd-dispute-statecharts/postgres';
 *   const store = createPostgresStore({ connectionString: process.env.DATABASE_URL });
 *
 * @module jd-dispute-statecharts/postgres
 */
export { createPostgresStore } from './postgres-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export type { WorkflowStore } from './store.js';
