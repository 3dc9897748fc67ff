import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderApiDocs } from '../../scripts/api-docs.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'api-docs-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A one-file project checked as the package is (its typedoc.json extends the package's). */
async function check(name: string, source: string): Promise<{ problems: string[]; out: string }> {
  const dir = join(scratch, name);
  const out = join(dir, 'api');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: [] },
      include: ['index.ts'],
    }),
  );
  // The fixture's typedoc.json extends the package's: same validation, its own entry point and tsconfig.
  writeFileSync(
    join(dir, 'typedoc.json'),
    JSON.stringify({
      extends: [join(ROOT, 'typedoc.json')],
      name: 'fixture',
      entryPoints: ['index.ts'],
      tsconfig: 'tsconfig.json',
      intentionallyNotDocumented: [],
    }),
  );
  const problems = await renderApiDocs({ config: join(dir, 'typedoc.json'), out, quiet: true });
  return { problems, out };
}

const DOCUMENTED = `
/** Adds two numbers. */
export function add(a: number, b: number): number {
  return a + b;
}
/** A point on the plane. */
export interface Point {
  x: number;
  y: number;
  /** Distance from the origin. */
  length(): number;
}
`;

describe('API reference: every public export carries a TSDoc comment (npm run lint:api)', () => {
  it('fails on an undocumented export of every required kind, and writes nothing', { timeout: 120_000 }, async () => {
    const { problems, out } = await check(
      'undocumented',
      `${DOCUMENTED}
export const LIMIT = 3;
export function undocumentedFunction(): void {}
export interface UndocumentedInterface { a: string }
export type UndocumentedAlias = 'a' | 'b';
export class UndocumentedClass {}
/** Documented, but one method is not. */
export interface Service { run(): void }
`,
    );
    const undocumented = problems.filter((problem) => problem.includes('does not have any documentation'));
    for (const name of ['LIMIT', 'undocumentedFunction', 'UndocumentedInterface', 'UndocumentedAlias', 'UndocumentedClass', 'Service.run']) {
      expect(
        undocumented.some((problem) => problem.includes(name)),
        `${name} is reported`,
      ).toBe(true);
    }
    expect(undocumented.some((problem) => /\badd\b|\bPoint\b/.test(problem))).toBe(false);
    expect(existsSync(join(out, 'README.md'))).toBe(false);
  });

  it('passes a fully documented project and writes its Markdown pages', { timeout: 120_000 }, async () => {
    const { problems, out } = await check('documented', DOCUMENTED);
    expect(problems).toEqual([]);
    const page = readFileSync(join(out, 'README.md'), 'utf8');
    expect(page).toContain('Adds two numbers.');
    expect(page).toContain('A point on the plane.');
    expect(existsSync(join(out, '.markdownlint.jsonc'))).toBe(true);
  });

  it('the package configuration requires functions, classes, interfaces, type aliases, variables, enums and methods, warnings failing', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as {
      validation: { notDocumented: boolean };
      treatWarningsAsErrors: boolean;
      requiredToBeDocumented: string[];
      entryPoints: string[];
    };
    expect(config.validation.notDocumented).toBe(true);
    expect(config.treatWarningsAsErrors).toBe(true);
    expect(config.requiredToBeDocumented).toEqual(
      expect.arrayContaining(['Function', 'Class', 'Interface', 'TypeAlias', 'Variable', 'Enum', 'Method']),
    );
    const exported = Object.values(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types?: string } | string> }).exports,
    )
      .flatMap((entry) => (typeof entry === 'object' && entry.types ? [entry.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts')] : []))
      .sort();
    expect([...config.entryPoints].sort()).toEqual(exported);
  });
});
