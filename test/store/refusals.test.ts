import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REFUSAL_LOG_DEFAULT_CAP, REFUSAL_MESSAGE_MAX, type RefusalRow } from '../../src/refusals.js';
import { createMemoryStore } from '../../src/runtime/memory-store.js';
import { createPostgresStore } from '../../src/runtime/postgres-store.js';
import { createSqliteStore } from '../../src/runtime/sqlite-store.js';
import type { RefusalStore, WorkflowStore } from '../../src/runtime/store.js';
import { makeAudit, makeCommand, makeCommit, makeDeadline, makeEffect, storedState, T0 } from '../store-contract.js';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';

type Store = WorkflowStore & RefusalStore;

/**
 * The store contract of D9's separate refusal log (RefusalStore), on the memory, SQLite and PostgreSQL
 * stores: appended per workflow, oldest first, capped to the newest (`refusalLogCap`), apart from
 * everything a commit writes (INV4), and only bounded, sanitised strings kept.
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(make: (cap?: number) => Promise<Store>, cap?: number): Promise<Store> {
  const store = await make(cap);
  await store.migrate();
  cleanups.push(() => store.close());
  return store;
}

const STORES: Array<[name: string, make: (cap?: number) => Promise<Store>, skip: boolean]> = [
  ['memory', async (cap) => createMemoryStore(cap === undefined ? {} : { refusalLogCap: cap }), false],
  [
    'SQLite',
    async (cap) => {
      const dir = mkdtempSync(join(tmpdir(), 'jd-refusals-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return createSqliteStore({ filename: join(dir, 'store.db'), ...(cap === undefined ? {} : { refusalLogCap: cap }) });
    },
    false,
  ],
  [
    'PostgreSQL',
    async (cap) => {
      const fresh = await freshSchema();
      cleanups.push(fresh.drop);
      return createPostgresStore({ connectionString: pgUrl, schema: fresh.schema, ...(cap === undefined ? {} : { refusalLogCap: cap }) });
    },
    !pgUrl && !requirePg,
  ],
];

const refusal = (workflowId: string, n: number, overrides: Partial<RefusalRow> = {}): RefusalRow => ({
  workflowId,
  at: T0 + n,
  role: 'customer',
  actorId: 'customer-1',
  eventType: 'merchant.planSubmitted',
  code: 'WRONG_ROLE',
  message: `refusal ${n}`,
  ...overrides,
});

for (const [name, make, skip] of STORES) {
  describe.skipIf(skip)(`RefusalStore contract: ${name}`, () => {
    it('D9: keeps each workflow its refusals, oldest first, the newest 100 by default', async () => {
      const store = await open(make);
      expect(await store.listRefusals('wf-1')).toEqual([]);
      for (let n = 1; n <= REFUSAL_LOG_DEFAULT_CAP + 3; n += 1) await store.recordRefusal(refusal('wf-1', n));
      await store.recordRefusal(refusal('wf-2', 1, { role: null, actorId: null, eventType: null, code: 'INVALID_PAYLOAD' }));
      const kept = await store.listRefusals('wf-1');
      expect(kept).toHaveLength(REFUSAL_LOG_DEFAULT_CAP);
      expect(kept[0]).toEqual(refusal('wf-1', 4));
      expect(kept.at(-1)).toEqual(refusal('wf-1', REFUSAL_LOG_DEFAULT_CAP + 3));
      expect(await store.listRefusals('wf-2')).toEqual([
        refusal('wf-2', 1, { role: null, actorId: null, eventType: null, code: 'INVALID_PAYLOAD' }),
      ]);
    });

    it('D9: the cap is a store option; a cap below 1 is refused', async () => {
      const store = await open(make, 2);
      for (let n = 1; n <= 5; n += 1) await store.recordRefusal(refusal('wf-1', n));
      expect((await store.listRefusals('wf-1')).map((row) => row.at)).toEqual([T0 + 4, T0 + 5]);
      await expect(make(0)).rejects.toThrow(RangeError);
    });

    it('INV4: a refusal changes nothing a commit wrote: workflow, version, audit and its sequence, deadlines, outbox, projections, commands, high-water mark', async () => {
      const store = await open(make);
      await store.commit(
        makeCommit('wf-1', 1, {
          audit: [makeAudit('wf-1', 1)],
          deadlines: [makeDeadline('wf-1', T0 + 60_000)],
          outbox: [makeEffect('wf-1', 'refund-1')],
          command: makeCommand('cmd-1', 'wf-1'),
        }),
      );
      const before = JSON.stringify({
        state: await storedState(store, 'wf-1'),
        command: await store.getCommand('wf-1', 'client', 'cmd-1'),
        highWater: await store.highWaterMark(),
        nextDueAt: await store.nextDueAt(),
      });
      await store.recordRefusal(refusal('wf-1', 1, { at: T0 + 10 * 86_400_000 }));
      const after = JSON.stringify({
        state: await storedState(store, 'wf-1'),
        command: await store.getCommand('wf-1', 'client', 'cmd-1'),
        highWater: await store.highWaterMark(),
        nextDueAt: await store.nextDueAt(),
      });
      expect(after).toBe(before);
      expect(await store.listRefusals('wf-1')).toHaveLength(1);
      // The next commit continues the trail and the version as if no refusal had happened.
      await store.commit(makeCommit('wf-1', 2, { audit: [makeAudit('wf-1', 2)] }));
      expect((await store.listAudit('wf-1')).map((row) => row.seq)).toEqual([1, 2]);
    });

    it('D9: keeps only bounded, sanitised strings (hostile input)', async () => {
      const store = await open(make);
      const hostile = `line\u0000break\r\n\u2028${'x'.repeat(10_000)}\uD800`;
      await store.recordRefusal(
        refusal('wf-1', 1, { role: `\u0000${'r'.repeat(100)}`, actorId: 'a'.repeat(1_000), eventType: '\uDC00bad\u0007', message: hostile }),
      );
      const [row] = await store.listRefusals('wf-1');
      expect(row!.message).toHaveLength(REFUSAL_MESSAGE_MAX);
      expect(row!.message.startsWith('line break ')).toBe(true);
      expect(row!.message.endsWith('…')).toBe(true);
      expect(row!.role).toBe(` ${'r'.repeat(15)}`);
      expect(row!.actorId).toBe('a'.repeat(64));
      expect(row!.eventType).toBe('\uFFFDbad ');
      expect(await store.listRefusals('wf\u0000')).toEqual([]);
    });
  });
}
