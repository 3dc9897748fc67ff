// With pg and @types/pg installed: the ./postgres entry type-checks and loads (no server is contacted).
import { createPostgresStore, type PostgresStoreOptions, type WorkflowStore } from 'jd-dispute-statecharts/postgres';

export const options: PostgresStoreOptions = { connectionString: 'postgres://localhost/none' };
export const create: (options: PostgresStoreOptions) => WorkflowStore = createPostgresStore;
console.log(`ok   jd-dispute-statecharts/postgres loads with pg: createPostgresStore is a ${typeof createPostgresStore}`);
