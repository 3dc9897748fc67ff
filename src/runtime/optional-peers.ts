import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { MissingPeerDependencyError } from '../errors.js';

const require = createRequire(import.meta.url);

/**
 * better-sqlite3 is an optional peer dependency (a native module that compiles on install): it is loaded
 * when the first SQLite store is created, never at import, so applications that use only the machines,
 * the in-memory store or PostgreSQL do not need it.
 */
export function loadBetterSqlite3(): typeof Database {
  try {
    return require('better-sqlite3') as typeof Database;
  } catch (error) {
    if (isMissing(error, 'better-sqlite3'))
      throw new MissingPeerDependencyError('better-sqlite3', 'createSqliteStore', { cause: error, version: '12' });
    throw error;
  }
}

/** The package itself cannot be resolved (not a missing file inside it, nor a failed native build). */
function isMissing(error: unknown, packageName: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    error.message.startsWith(`Cannot find module '${packageName}'`)
  );
}
