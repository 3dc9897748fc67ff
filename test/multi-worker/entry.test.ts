import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/loaded-packages.ts', import.meta.url));

/** The watched packages a fresh process loads when it imports `module`. */
function packagesLoadedBy(module: string): string[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, module], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as string[];
}

describe('the ./postgres entry', () => {
  it('exports createPostgresStore, and only it loads pg (an optional peer dependency)', async () => {
    const entry = await import('../../src/runtime/postgres.js');
    expect(Object.keys(entry).sort()).toEqual(['createPostgresStore']);
    expect(packagesLoadedBy('src/runtime/postgres.ts')).toEqual(['pg', 'pg-pool']);
    expect(packagesLoadedBy('src/index.ts')).toEqual([]);
  });
});

describe('the ./runtime entry', () => {
  it('loads neither pg nor better-sqlite3 (an optional peer, loaded when a SQLite store is created)', () => {
    expect(packagesLoadedBy('src/runtime/index.ts')).toEqual([]);
  });
});
