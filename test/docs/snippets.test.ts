import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const OUT = join(ROOT, 'test/docs/.generated');
const PACKAGE = 'jd-dispute-statecharts';

interface Snippet {
  page: string;
  /** Line of the opening fence in the page. */
  line: number;
  file: string;
  code: string;
  imports: string[];
}

function markdownPages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? markdownPages(join(dir, entry.name)) : entry.name.endsWith('.md') ? [join(dir, entry.name)] : []))
    .sort();
}

const EXPORTS = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, { default?: string } | string>;
  }
).exports;

/** The source file behind a package entry point: `./dist/src/runtime/index.js` → `src/runtime/index.js`. */
function sourceOf(subpath: string | undefined): string {
  const entry = EXPORTS[`.${subpath ?? ''}`];
  const built = typeof entry === 'string' ? entry : entry?.default;
  return built ? built.replace(/^\.\/dist\//, '') : `src${subpath ?? ''}/index.js`;
}

/** Every ```ts / ```typescript block of docs/ (and of the README, the front door), as a module importing the repository's source. */
function snippets(): Snippet[] {
  const found: Snippet[] = [];
  for (const path of [join(ROOT, 'README.md'), ...markdownPages(join(ROOT, 'docs'))]) {
    const page = relative(ROOT, path);
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(/^```(?:ts|typescript)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)) {
      const line = text.slice(0, match.index).split('\n').length;
      const imports: string[] = [];
      const code = match[1]!.replace(
        new RegExp(String.raw`(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])${PACKAGE}(/[\w-]+)?\2`, 'g'),
        (_whole, lead: string, quote: string, subpath: string | undefined) => {
          imports.push(`${PACKAGE}${subpath ?? ''}`);
          return `${lead}${quote}../../../${sourceOf(subpath)}${quote}`;
        },
      );
      const file = `${page.replace(/^docs\//, '').replace(/[/.]/g, '-')}-L${line}.ts`;
      found.push({ page, line, file, code: `${code}\nexport {};\n`, imports });
    }
  }
  return found;
}

describe('code in the docs', () => {
  const blocks = snippets();

  it('the docs have TypeScript examples to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  it('imports only entry points the package exports', () => {
    const exported = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports);
    const missing = blocks.flatMap((block) =>
      block.imports
        .filter((specifier) => !exported.includes(`.${specifier.slice(PACKAGE.length)}`))
        .map((specifier) => `${block.page}:${block.line} imports ${specifier}, which package.json "exports" does not list`),
    );
    expect(missing).toEqual([]);
  });

  it('every ts block compiles against the source (tsc --noEmit, strict, the root tsconfig)', () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, '.gitignore'), '*\n');
    writeFileSync(
      join(OUT, 'tsconfig.json'),
      `${JSON.stringify({ extends: '../../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.ts'] }, null, 2)}\n`,
    );
    for (const block of blocks) writeFileSync(join(OUT, block.file), block.code);

    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(OUT, 'tsconfig.json')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    // Report by block: page and line of the failing code, with the compiler's message.
    const failures = new Map<string, string[]>();
    for (const line of tsc.stdout.split('\n')) {
      const error = /^(?:.*\/)?([^/(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line.trim());
      if (!error) continue;
      const block = blocks.find((candidate) => candidate.file === error[1]);
      const where = block ? `${block.page}:${block.line + Number(error[2])}` : error[1]!;
      failures.set(where, [...(failures.get(where) ?? []), error[4]!]);
    }
    const report = [...failures].map(([where, errors]) => `${where}: ${errors.join(' / ')}`);
    expect(report, tsc.stdout).toEqual([]);
    expect(tsc.status, tsc.stdout || tsc.stderr).toBe(0);
  }, 120_000);
});
