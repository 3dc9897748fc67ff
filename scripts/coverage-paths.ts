/**
 * Path coverage report for the three traversals (dispute, cancellation, the order composition), under
 * the default policy and under each policy variant (test/paths/policy-variants.ts: one per non-default
 * value of every setting that changes a transition; a variant generates only the models it can change).
 *
 *   tsx scripts/coverage-paths.ts            generate, replay with the domain oracles, write reports/
 *   tsx scripts/coverage-paths.ts --check    also fail (exit 1) when a model of some variant is below 100 %
 *                                            states or transitions (less what it pins as excluded: what
 *                                            only another value of its setting reaches), below its pinned
 *                                            transition-pair figure, a replay mismatches, or its committed
 *                                            golden paths are stale
 *   tsx scripts/coverage-paths.ts --update   also rewrite the golden paths and the pins of what ran
 *   --only dispute,cancellation              restrict to some models
 *   --variants default,appeals=on            restrict to some policy variants (names or file slugs)
 *   --jobs <n>                               variants run in n processes at once (default: the CPUs, at
 *                                            most 4; 1 runs everything in this process)
 *
 * Goldens: test/paths/golden/<model>.json (default), <model>.<setting>-<value>.json (variants). Pins:
 * test/path-coverage.pins.json (default), test/path-coverage.variants.pins.json (variants). Reports:
 * reports/path-coverage.{json,md,html} (default; the JSON has every variant's figures under `variants`),
 * reports/path-coverage.<setting>-<value>.{md,html} per variant.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeCoverage,
  coverageProblems,
  generatePaths,
  renderCoverageMarkdown,
  uncoveredKey,
  type MachineCoverage,
  type ReportEntry,
} from '../src/coverage/index.js';
import { renderCoverageHtml } from '../src/view/coverage-page.js';
import { goldenPath, replayWithOracles, serializeGolden, toGolden } from '../test/paths/harness.js';
import { MODEL_NAMES, modelFor, type ModelName } from '../test/paths/models.js';
import { excludable, loadPins, pinnedCoverage, pinsFileOf, savePins, type Pin, type VariantPins } from '../test/paths/pins.js';
import { POLICY_VARIANTS, siblingsOf, variantNamed, type PolicyVariant } from '../test/paths/policy-variants.js';
import { delayLabel } from './docs-diagrams.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(import.meta.url);
const REPORT_JSON = `${root}reports/path-coverage.json`;

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const check = flag('--check');
const update = flag('--update');
const childResult = option('--child');
const only = (option('--only') ?? MODEL_NAMES.join(',')).split(',');
const names = MODEL_NAMES.filter((name) => only.includes(name));
const variants = option('--variants') ? option('--variants')!.split(',').map(variantNamed) : [...POLICY_VARIANTS];

/** What one model under one variant gave: plain JSON, so a child process can hand it over. */
interface ModelResult {
  model: ModelName;
  variant: string;
  /** Coverage as counted, before pinned exclusions. */
  coverage: MachineCoverage;
  replayMismatches: number;
  /** Golden file problems (stale, missing). */
  golden: string[];
  /** Per input variant: the explored graph's size. */
  inputs: Array<{ label: string; vertices: number; edges: number }>;
  seconds: number;
}

const pct = (c: { covered: number; total: number }) => (c.total ? (100 * c.covered) / c.total : 100);
const fmt = (c: { covered: number; total: number }) => `${c.covered}/${c.total} (${pct(c).toFixed(1)} %)`;
const reportSuffix = (variant: PolicyVariant) => (variant.setting ? `.${variant.slug}` : '');

/**
 * The exclusions a variant's report shows: its pins under --check, else what it leaves uncovered (under
 * --update the parent checks each against the sibling variants before pinning it).
 */
function exclusionsFor(_variant: PolicyVariant, coverage: MachineCoverage, pin: Pin | undefined): Pin | undefined {
  if (!update) return pin;
  return {
    transitionPairs: coverage.transitionPairs.covered,
    paths: coverage.paths,
    excluded: coverage.uncovered.filter(excludable).map(uncoveredKey),
  };
}

/** Generates, replays, checks or rewrites the goldens, and writes the reports of one variant. */
async function runVariant(variant: PolicyVariant, pins: VariantPins): Promise<ModelResult[]> {
  const results: ModelResult[] = [];
  const entries: ReportEntry[] = [];
  for (const name of names.filter((model) => variant.models.includes(model))) {
    const started = performance.now();
    const { machine, options } = modelFor(name, variant.policy);
    const pathSet = generatePaths(machine, options as never);
    const replays = pathSet.paths.map((path) => replayWithOracles(name, path));
    const coverage = computeCoverage(pathSet, replays);
    const golden = serializeGolden(toGolden(name, pathSet.paths));
    const file = goldenPath(name, variant);
    const problems: string[] = [];
    if (update) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, golden);
    } else if (!existsSync(file) || readFileSync(file, 'utf8') !== golden) {
      problems.push(
        `golden paths ${file.slice(root.length)} are ${existsSync(file) ? 'stale: the state graph changed' : 'missing'} (review, then run npm run coverage:paths -- --update)`,
      );
    }
    const pin = exclusionsFor(variant, coverage, pins[coverage.machineId]);
    entries.push({
      coverage: pinnedCoverage(variant, coverage, pin).coverage,
      pathSet,
      ...(pin ? { pinnedPairs: pin.transitionPairs } : {}),
    });
    results.push({
      model: name,
      variant: variant.name,
      coverage,
      replayMismatches: replays.filter((replay) => replay.mismatches.length).length,
      golden: problems,
      inputs: pathSet.explorations.map((e) => ({ label: e.variant.label, vertices: e.vertices.size, edges: e.edges.length })),
      seconds: (performance.now() - started) / 1000,
    });
  }
  if (entries.length) {
    const title = `Path coverage${variant.setting ? ` under ${variant.name}` : ''}`;
    mkdirSync(`${root}reports`, { recursive: true });
    writeFileSync(`${root}reports/path-coverage${reportSuffix(variant)}.md`, renderCoverageMarkdown(entries, { delayLabel, title }));
    writeFileSync(`${root}reports/path-coverage${reportSuffix(variant)}.html`, await renderCoverageHtml(entries, { title }));
  }
  return results;
}

/** Variants whose child process failed (reported as problems). */
const crashed: string[] = [];

/** Runs the variants, in this process or in `jobs` child processes of this script. */
async function runAll(selected: readonly PolicyVariant[], pins: Record<string, VariantPins>, jobs: number): Promise<ModelResult[]> {
  if (jobs <= 1) {
    const results: ModelResult[] = [];
    for (const variant of selected) {
      const mine = await runVariant(variant, pins[variant.name] ?? {});
      for (const result of mine) console.log(`  … ${result.variant} ${result.model} ${result.seconds.toFixed(1)} s`);
      results.push(...mine);
    }
    return results;
  }
  const dir = mkdtempSync(join(tmpdir(), 'coverage-paths-'));
  const queue = [...selected];
  const results: ModelResult[][] = [];
  const worker = async () => {
    for (let variant = queue.shift(); variant; variant = queue.shift()) {
      const out = join(dir, `${variant.slug}.json`);
      const childArgs = [...process.execArgv, script, '--child', out, '--variants', variant.name, '--only', names.join(',')];
      if (update) childArgs.push('--update');
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
        child.on('error', reject);
        child.on('exit', resolve);
      });
      if (code !== 0 || !existsSync(out)) {
        // The others go on: every variant is reported, this one as a failure.
        crashed.push(`[${variant.name}] its process failed (exit ${code}): see its error above`);
        continue;
      }
      const mine = JSON.parse(readFileSync(out, 'utf8')) as ModelResult[];
      for (const result of mine) console.log(`  … ${result.variant} ${result.model} ${result.seconds.toFixed(1)} s`);
      results.push(mine);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, selected.length) }, worker));
  rmSync(dir, { recursive: true, force: true });
  const order = (result: ModelResult) => selected.findIndex((v) => v.name === result.variant) * 10 + MODEL_NAMES.indexOf(result.model);
  return results.flat().sort((a, b) => order(a) - order(b));
}

if (childResult) {
  const variant = variants[0]!;
  const results = await runVariant(variant, loadPins()[variant.name] ?? {});
  writeFileSync(childResult, JSON.stringify(results));
} else {
  const started = performance.now();
  const pins = loadPins();
  const jobsOption = option('--jobs');
  const jobs = jobsOption ? Number(jobsOption) : Math.min(4, availableParallelism());
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a whole number >= 1, got ${jobsOption}`);
  const results = await runAll(variants, pins, jobs);

  /** What each variant left uncovered, per model: the evidence for the siblings' exclusions. */
  const uncoveredBy = new Map(results.map((r) => [`${r.variant} ${r.model}`, new Set(r.coverage.uncovered.map(uncoveredKey))]));
  const problems: string[] = [...crashed];
  const json: { machines: Record<string, unknown>; variants: Record<string, { policy: unknown; machines: Record<string, unknown> }> } = {
    machines: {},
    variants: {},
  };
  for (const result of results) {
    const variant = variantNamed(result.variant);
    const raw = result.coverage;
    const variantPins = (pins[variant.name] ??= {});
    const pinned = variantPins[raw.machineId];
    const mine = [...result.golden];
    const uncoveredHere = raw.uncovered.filter(excludable).map(uncoveredKey).sort();
    // Every exclusion must be covered under another variant: one that differs from this one in a single
    // setting (the default, another value of the setting), or, for what the default does not reach either,
    // the variant of the setting that reaches it.
    const siblings = [...siblingsOf(variant), ...(variant.setting ? siblingsOf(variantNamed('default')) : [])]
      .filter((sibling, index, all) => sibling !== variant && all.indexOf(sibling) === index)
      .filter((sibling) => uncoveredBy.has(`${sibling.name} ${result.model}`));
    const coveredBySibling = (key: string) => siblings.find((sibling) => !uncoveredBy.get(`${sibling.name} ${result.model}`)!.has(key));
    // A child's transition that only a combination of settings reaches in the composition (D1 several with
    // appeals on) counts as covered when the child's own model, driven with the event as the parent
    // forwards it (test/paths/fixtures.ts), covers it under this variant or a sibling.
    const coveredByChildModel = (key: string) => {
      const machine = key.split(' ')[1];
      if (machine === raw.machineId) return undefined;
      return [variant, ...siblings].find((sibling) => {
        const uncovered = uncoveredBy.get(`${sibling.name} ${machine}`);
        return uncovered !== undefined && !uncovered.has(key);
      });
    };
    let pin: Pin | undefined = pinned;
    if (update) {
      pin = { transitionPairs: raw.transitionPairs.covered, paths: raw.paths, ...(uncoveredHere.length ? { excluded: uncoveredHere } : {}) };
      variantPins[raw.machineId] = pin;
    } else if (!pinned) {
      mine.push(`no pinned figure in ${pinsFileOf(variant)} (run with --update)`);
    } else {
      const expected = [...(pinned.excluded ?? [])].sort();
      const fresh = uncoveredHere.filter((key) => !expected.includes(key));
      const stale = expected.filter((key) => !uncoveredHere.includes(key));
      if (stale.length) mine.push(`pinned exclusions now covered (run with --update): ${stale.join('; ')}`);
      if (fresh.length) mine.push(`newly uncovered (not pinned as excluded): ${fresh.join('; ')}`);
    }
    for (const key of pin?.excluded ?? []) {
      if (!siblings.length) continue; // no sibling ran (--variants): the pin was checked when it was written
      if (!coveredBySibling(key) && !coveredByChildModel(key)) {
        mine.push(`${key} is uncovered here and under every other variant (${siblings.map((s) => s.name).join(', ')}): not a policy exclusion`);
      }
    }
    const { coverage } = pinnedCoverage(variant, raw, pin);
    mine.push(...coverageProblems(coverage, update || !pinned ? {} : { transitionPairs: pinned.transitionPairs }));
    const excluded = coverage.excluded?.length ?? 0;
    problems.push(...mine.map((problem) => `[${variant.name}] ${raw.machineId}: ${problem}`));
    console.log(
      `[${variant.name}] ${raw.machineId}: states ${fmt(coverage.states)}, transitions ${fmt(coverage.transitions)}, ` +
        `transition pairs ${fmt(coverage.transitionPairs)}, ${coverage.paths} paths, ${result.replayMismatches} replay mismatches` +
        `${excluded ? `, ${excluded} excluded (reached only under another policy variant)` : ''}, ` +
        `${result.seconds.toFixed(1)} s${mine.length ? ' [FAIL]' : ' [ok]'}`,
    );
    const figures = {
      states: coverage.states,
      transitions: coverage.transitions,
      transitionPairs: coverage.transitionPairs,
      paths: coverage.paths,
      uncovered: coverage.uncovered.map(({ kind, machineId, id, reason }) => ({ kind, machine: machineId, id, reason })),
      excluded: (coverage.excluded ?? []).map(({ kind, machineId, id }) => ({ kind, machine: machineId, id })),
      byMachine: coverage.byMachine,
      inputs: result.inputs,
    };
    if (!variant.setting) json.machines[raw.machineId] = figures;
    (json.variants[variant.name] ??= { policy: variant.policy, machines: {} }).machines[raw.machineId] = figures;
  }
  mkdirSync(`${root}reports`, { recursive: true });
  writeFileSync(REPORT_JSON, `${JSON.stringify(json, null, 2)}\n`);
  if (update) savePins(pins);
  console.log(`${variants.length} policy variant(s), ${results.length} model runs, ${((performance.now() - started) / 1000).toFixed(1)} s`);

  if (problems.length && (check || update || crashed.length)) {
    for (const problem of problems) console.error(`✗ ${problem}`);
    process.exitCode = 1;
  }
}
