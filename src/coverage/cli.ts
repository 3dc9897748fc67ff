/**
 * Path coverage for a user's machine:
 *
 *   tsx src/coverage/cli.ts --module <path> --export <name> [--input <json>] [--options <name>]
 *                           [--system] [--limit <n>] --out <dir>
 *
 * `--options` names an export of the same module holding `GenerateOptions` (event variants, invoke
 * outcomes, key or context projection, input variants …). Writes <dir>/path-coverage.json and
 * <dir>/path-coverage.md; exits 1 when the machine failed on some step, is below 100 % states,
 * transitions or history restores, or a path does not replay.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { coverageProblems } from './coverage.js';
import type { GenerateOptions } from './paths.js';
import { renderCoverageMarkdown } from './render.js';
import { runCoverage, type CoverageRun } from './run.js';

export interface CliResult {
  exitCode: number;
  files: string[];
}

const USAGE =
  'usage: tsx src/coverage/cli.ts --module <path> --export <name> [--input <json>] [--options <name>] [--system] [--limit <n>] --out <dir>';

function parse(argv: readonly string[]): Record<string, string | true> {
  const args: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args[arg.slice(2)] = true;
    else {
      args[arg.slice(2)] = next;
      i++;
    }
  }
  return args;
}

const isMachine = (value: unknown): value is AnyStateMachine =>
  typeof value === 'object' && value !== null && 'root' in value && 'getStateNodeById' in value;

export async function runCli(argv: readonly string[], log: (line: string) => void = console.log): Promise<CliResult> {
  const args = parse(argv);
  const modulePath = args.module;
  const exportName = args.export;
  const out = args.out;
  if (typeof modulePath !== 'string' || typeof exportName !== 'string' || typeof out !== 'string') throw new Error(USAGE);
  const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
  const machine = loaded[exportName];
  if (!isMachine(machine)) throw new Error(`${modulePath} has no XState machine export ${exportName}`);
  const fromModule = typeof args.options === 'string' ? (loaded[args.options] as GenerateOptions | undefined) : undefined;
  if (typeof args.options === 'string' && !fromModule) throw new Error(`${modulePath} has no export ${args.options}`);
  const options: GenerateOptions = {
    ...fromModule,
    ...(typeof args.input === 'string' ? { inputs: [{ label: 'input', input: JSON.parse(args.input) as unknown }] } : {}),
    ...(args.system === true ? { system: true } : {}),
    ...(typeof args.limit === 'string' ? { limit: Number(args.limit) } : {}),
  };
  let run: CoverageRun;
  try {
    run = runCoverage(machine, options);
  } catch (error) {
    if (error instanceof Error && /Traversal limit exceeded/.test(error.message)) {
      throw new Error(
        `the state graph of ${machine.id} does not close: its context grows. Export GenerateOptions with a \`key\` ` +
          'that keeps only what guards read, and pass it with --options',
      );
    }
    throw error;
  }
  const { coverage, pathSet } = run;
  mkdirSync(out, { recursive: true });
  const json = join(out, 'path-coverage.json');
  const md = join(out, 'path-coverage.md');
  const { uncovered, states, transitions, transitionPairs, history, regions, failures, paths } = coverage;
  writeFileSync(
    json,
    `${JSON.stringify({ machines: { [coverage.machineId]: { states, transitions, transitionPairs, history, regions, paths, failures, uncovered } } }, null, 2)}\n`,
  );
  writeFileSync(md, renderCoverageMarkdown([{ coverage, pathSet }]));
  const problems = coverageProblems(coverage);
  const line = (c: { covered: number; total: number }) => `${c.covered}/${c.total}`;
  log(
    `${coverage.machineId}: states ${line(states)}, transitions ${line(transitions)}, transition pairs ${line(transitionPairs)}` +
      `${history.total ? `, history restores ${line(history)}` : ''}, ${paths} paths${problems.length ? ' [FAIL]' : ' [ok]'}`,
  );
  for (const problem of problems) log(`✗ ${problem}`);
  return { exitCode: problems.length ? 1 : 0, files: [json, md] };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then(
    (result) => {
      process.exitCode = result.exitCode;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 2;
    },
  );
}
