import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { runKillSoak } from './kill/harness.js';

const tmp = tempDir('runtime-kill-');
afterAll(() => tmp.cleanup());

describe('kill test: SIGKILL at random points (SQLite)', () => {
  it('INV1/INV5: after 50 SIGKILLs no accepted command is lost, no deadline is lost or fired twice, no refund runs twice', async () => {
    const report = await runKillSoak({ kills: 50, dir: tmp.dir });
    expect(report.problems).toEqual([]);
    expect(report.kills).toBeGreaterThanOrEqual(50);
    expect(report.crashesAfterRefund).toBeGreaterThan(0);
    expect(report.refundsExecuted).toBeGreaterThan(0);
    expect(report.timersFired).toBeGreaterThan(0);
  }, 300_000); // ~50 worker processes each start TypeScript through tsx (1–2 s each on a loaded 2-core machine)
});
