import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryProperty, type SequenceStats } from './model.js';

describe('model-based properties (in-memory host)', () => {
  it('INV1–INV4 and P2/P3d/C4 hold for any interleaving of roles, callbacks and clock moves', () => {
    const stats: SequenceStats = { sequences: 0, steps: 0, checks: 0 };
    fc.assert(memoryProperty(stats), { numRuns: 300 });
    expect(stats.sequences).toBe(300);
    expect(stats.checks).toBeGreaterThan(1000);
  });
});
