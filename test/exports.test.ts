import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('public API', () => {
  it('the main entry exports exactly this surface (an API change shows in review)', () => {
    expect(Object.keys(api).sort()).toMatchSnapshot();
  });

  it('the main entry does not load the graph tooling', async () => {
    const source = await import('node:fs').then((fs) => fs.readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8'));
    expect(source).not.toMatch(/coverage|xstate\/graph/);
  });
});
