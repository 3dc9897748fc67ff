/**
 * Path coverage report for the three traversals (dispute, cancellation, the order composition).
 *
 *   tsx scripts/coverage-paths.ts            generate, replay with the domain oracles, write reports/
 *   tsx scripts/coverage-paths.ts --check    also fail (exit 1) when a machine is below 100 % states or
 *                                            transitions, below its pinned transition-pair figure, a
 *                                            replay mismatches, or the committed golden paths are stale
 *   tsx scripts/coverage-paths.ts --update   also rewrite test/paths/golden/*.json and the pins
 *   --only dispute,cancellation              restrict to some models
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeCoverage,
  coverageProblems,
  generatePaths,
  renderCoverageMarkdown,
  type MachineCoverage,
  type ReportEntry,
} from '../src/coverage/index.js';
import { renderCoverageHtml } from '../src/view/coverage-page.js';
import { goldenPath, replayWithOracles, serializeGolden, toGolden } from '../test/paths/harness.js';
import { MODEL_NAMES, MODELS } from '../test/paths/models.js';
import { delayLabel } from './docs-diagrams.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const PINS = `${root}test/path-coverage.pins.json`;
const REPORT_JSON = `${root}reports/path-coverage.json`;
const REPORT_MD = `${root}reports/path-coverage.md`;

type Pins = Record<string, { transitionPairs: number; paths: number }>;

const args = process.argv.slice(2);
const check = args.includes('--check');
const update = args.includes('--update');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? '').split(',') : MODEL_NAMES;
const names = MODEL_NAMES.filter((name) => only.includes(name));

const pct = (c: { covered: number; total: number }) => (c.total ? (100 * c.covered) / c.total : 100);
const fmt = (c: { covered: number; total: number }) => `${c.covered}/${c.total} (${pct(c).toFixed(1)} %)`;

const pins: Pins = existsSync(PINS) ? JSON.parse(readFileSync(PINS, 'utf8')) : {};
const entries: ReportEntry[] = [];
const problems: string[] = [];
const json: { machines: Record<string, unknown> } = { machines: {} };

for (const name of names) {
  const started = performance.now();
  const { machine, options } = MODELS[name];
  const pathSet = generatePaths(machine, options as never);
  const replays = pathSet.paths.map((path) => replayWithOracles(name, path));
  const coverage: MachineCoverage = computeCoverage(pathSet, replays);
  const pinned = pins[coverage.machineId];
  entries.push({ coverage, pathSet, ...(pinned ? { pinnedPairs: pinned.transitionPairs } : {}) });
  json.machines[coverage.machineId] = {
    states: coverage.states,
    transitions: coverage.transitions,
    transitionPairs: coverage.transitionPairs,
    paths: coverage.paths,
    uncovered: coverage.uncovered.map(({ kind, machineId, id, reason }) => ({ kind, machine: machineId, id, reason })),
    byMachine: coverage.byMachine,
    variants: pathSet.explorations.map((e) => ({ label: e.variant.label, vertices: e.vertices.size, edges: e.edges.length })),
  };

  const mismatches = replays.filter((replay) => replay.mismatches.length);
  const mine = coverageProblems(coverage, update || !pinned ? {} : { transitionPairs: pinned.transitionPairs });
  if (!pinned && !update) mine.push('no pinned figure in test/path-coverage.pins.json (run with --update)');

  const golden = serializeGolden(toGolden(name, pathSet.paths));
  const file = goldenPath(name);
  if (update) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, golden);
    pins[coverage.machineId] = { transitionPairs: coverage.transitionPairs.covered, paths: coverage.paths };
  } else if (!existsSync(file) || readFileSync(file, 'utf8') !== golden) {
    mine.push(`golden paths ${file.slice(root.length)} are stale: the state graph changed (review, then run npm run coverage:paths -- --update)`);
  }
  problems.push(...mine.map((problem) => `${coverage.machineId}: ${problem}`));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${coverage.machineId}: states ${fmt(coverage.states)}, transitions ${fmt(coverage.transitions)}, ` +
      `transition pairs ${fmt(coverage.transitionPairs)}, ${coverage.paths} paths, ${mismatches.length} replay mismatches, ${seconds} s` +
      (mine.length ? ' [FAIL]' : ' [ok]'),
  );
}

mkdirSync(`${root}reports`, { recursive: true });
writeFileSync(REPORT_JSON, `${JSON.stringify(json, null, 2)}\n`);
writeFileSync(REPORT_MD, renderCoverageMarkdown(entries, { delayLabel }));
writeFileSync(`${root}reports/path-coverage.html`, await renderCoverageHtml(entries));
if (update) writeFileSync(PINS, `${JSON.stringify(pins, null, 2)}\n`);

if (problems.length && (check || update)) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  process.exitCode = 1;
}
