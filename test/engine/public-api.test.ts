import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
/** Where only public XState APIs may be used: an upgrade must not silently stop refunds (issue 11). */
const SCANNED = ['machines', 'src/engine', 'src/runtime', 'src/workflow.ts'];
/** A `_`-prefixed member read on anything: `ref._parent`, `snapshot._nodes`, `event['_transitions']`. */
const DOT_ACCESS = /\.\s*(_[A-Za-z]\w*)/g;
const BRACKET_ACCESS = /\[\s*['"`](_[A-Za-z]\w*)['"`]\s*\]/g;

function files(path: string): string[] {
  const full = join(ROOT, path);
  if (statSync(full).isFile()) return [path];
  return readdirSync(full).flatMap((name) => files(join(path, name)));
}

const withoutComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, ' ');
const withoutStrings = (code: string) => code.replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, "''");

/** Private members read in the code, sorted (comments and the text of messages do not count). */
function privateXStateReads(source: string): string[] {
  const code = withoutComments(source);
  const reads = [...code.matchAll(BRACKET_ACCESS), ...withoutStrings(code).matchAll(DOT_ACCESS)];
  return reads.map((match) => match[1]!).sort();
}

describe('public XState APIs only', () => {
  it('no `_`-prefixed field is read in machines/, src/engine, src/runtime or src/workflow.ts', () => {
    const found = SCANNED.flatMap(files)
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => privateXStateReads(readFileSync(join(ROOT, file), 'utf8')).map((field) => `${relative('.', file)}: ${field}`));
    expect(found).toEqual([]);
  });

  it('the scan finds the reads it exists to forbid (it can fail)', () => {
    expect(privateXStateReads('const p = ref._parent; snapshot._nodes.forEach(f); e["_transitions"];')).toEqual([
      '_nodes',
      '_parent',
      '_transitions',
    ]);
    expect(privateXStateReads("// ref._parent in a comment\nconst s = 'self._parent';")).toEqual([]);
  });
});
