/**
 * `npm run docs:api`: the API reference, docs/api/*.md, generated from the TSDoc comments of the package's
 * entry points (the `exports` of package.json) by TypeDoc and typedoc-plugin-markdown, configured in
 * typedoc.json. Markdown, not HTML: the pages ship in the package's docs/ beside the guides, are read on
 * GitHub and npm as they are, and pass the same Markdown lint.
 *
 * Every public export must carry a comment: typedoc.json turns on the `notDocumented` validation for
 * functions, classes, interfaces, type aliases, variables, enums, methods and accessors, and a validation
 * warning fails the run before anything is written.
 *
 * `--check` (`npm run lint:api`, a CI gate): the same validation, then the pages are generated in a
 * temporary folder and compared with docs/api; it fails when docs/api is stale.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Application, Logger, LogLevel, TSConfigReader, type TypeDocOptions, TypeDocReader } from 'typedoc';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Where the committed API reference lives. */
export const API_DIR = join(ROOT, 'docs/api');

/**
 * The generated pages repeat headings by construction ("Parameters", "Returns", one "Type Literal" per
 * union member), so they are linted with the repository's rules less MD024. markdownlint-cli2 takes this
 * file for docs/api in place of the root configuration, so the other rules are repeated here.
 */
const MARKDOWNLINT_CONFIG = `// Written by \`npm run docs:api\`: the repository's Markdown rules, less MD024 (generated API pages repeat headings).
{
  "default": true,
  "MD013": false,
  "MD060": false,
  "MD033": { "allowed_elements": ["a", "br"] },
  "MD024": false
}
`;

/** Collects what TypeDoc reports at warning level and above, and prints it as the CLI would. */
class CollectingLogger extends Logger {
  readonly problems: string[] = [];
  constructor(private readonly quiet: boolean) {
    super();
  }
  override log(message: string, level: LogLevel): void {
    super.log(message, level);
    if (level >= LogLevel.Warn && level !== LogLevel.None) {
      this.problems.push(message);
      if (!this.quiet) console.error(`${level === LogLevel.Error ? 'error' : 'warning'}: ${message}`);
    }
  }
}

/** Options of one run: the defaults document this package from its typedoc.json. */
export interface ApiDocsOptions {
  /** TypeDoc options that override typedoc.json (a test points them at a fixture project). */
  overrides?: Partial<TypeDocOptions>;
  /** The typedoc.json to read; the package's own by default. */
  config?: string;
  /** Where the pages go; nothing is written while any problem is reported. */
  out: string;
  /** Collect problems without printing them. */
  quiet?: boolean;
}

/**
 * Converts, validates and (only when nothing was reported) writes the API reference. Returns every
 * warning and error TypeDoc reported; an undocumented export is one of them.
 */
export async function renderApiDocs({
  overrides = {},
  config = join(ROOT, 'typedoc.json'),
  out,
  quiet = false,
}: ApiDocsOptions): Promise<string[]> {
  const app = await Application.bootstrapWithPlugins({ options: config, ...overrides, out }, [new TypeDocReader(), new TSConfigReader()]);
  const logger = new CollectingLogger(quiet);
  logger.level = LogLevel.Warn;
  app.logger = logger;
  const project = await app.convert();
  if (!project) return logger.problems.length ? logger.problems : ['TypeDoc could not convert the project'];
  app.validate(project);
  if (logger.problems.length) return logger.problems;
  await app.generateOutputs(project);
  // The plugin leaves a trailing space after some wrapped type arguments (MD009): pages are written without.
  for (const file of filesUnder(out).filter((name) => name.endsWith('.md'))) {
    const page = join(out, file);
    writeFileSync(page, readFileSync(page, 'utf8').replace(/[ \t]+$/gm, ''));
  }
  writeFileSync(join(out, '.markdownlint.jsonc'), MARKDOWNLINT_CONFIG);
  return logger.problems;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** Pages that differ between two generated folders (missing on either side, or changed). */
export function staleApiPages(expected: string, actual: string): string[] {
  const want = filesUnder(expected);
  const have = filesUnder(actual);
  const stale = have.filter((file) => !want.includes(file)).map((file) => `${file}: not generated any more`);
  for (const file of want) {
    if (!have.includes(file)) stale.push(`${file}: missing`);
    else if (readFileSync(join(expected, file), 'utf8') !== readFileSync(join(actual, file), 'utf8')) stale.push(`${file}: changed`);
  }
  return stale;
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  if (!check) {
    const problems = await renderApiDocs({ out: API_DIR });
    if (problems.length) {
      console.error(`docs:api: ${problems.length} problem(s); docs/api was not written (every public export needs a TSDoc comment)`);
      return 1;
    }
    console.log(`docs:api: wrote ${relative(ROOT, API_DIR)}/ (${filesUnder(API_DIR).length} files)`);
    return 0;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'api-docs-'));
  try {
    const out = join(scratch, 'api');
    mkdirSync(out);
    const problems = await renderApiDocs({ out });
    if (problems.length) {
      console.error(`lint:api: ${problems.length} problem(s) (every public export needs a TSDoc comment)`);
      return 1;
    }
    const stale = staleApiPages(out, API_DIR);
    if (stale.length) {
      console.error(`lint:api: docs/api is stale, run \`npm run docs:api\`:\n  ${stale.join('\n  ')}`);
      return 1;
    }
    console.log('lint:api: every public export is documented and docs/api is current');
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}
