import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const machineFiles = readdirSync(new URL('../machines/', import.meta.url)).filter((file) => file.endsWith('.ts'));

describe('machines are pure', () => {
  it.each(machineFiles)('%s reads no clock, does no I/O and logs nothing', (file) => {
    const source = readFileSync(new URL(`../machines/${file}`, import.meta.url), 'utf8');
    expect(source).not.toMatch(/Date\.now|new Date|performance\.now|Math\.random/);
    expect(source).not.toMatch(/console\.|process\.|setTimeout|setInterval|fetch\(/);
    expect(source).not.toMatch(/from ['"]node:|from ['"](fs|http|https|net|child_process|better-sqlite3|pg)['"]/);
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
    for (const specifier of imports) {
      expect(specifier === 'xstate' || specifier!.startsWith('./') || specifier!.startsWith('../src/schemas/')).toBe(true);
    }
  });

  it('the machines folder is not empty', () => {
    expect(machineFiles).toEqual(expect.arrayContaining(['order.ts', 'dispute.ts', 'cancellation.ts']));
  });
});
