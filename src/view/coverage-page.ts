import type { AnyStateMachine } from 'xstate';
import { machinesOf, type ReportEntry } from '../coverage/index.js';
import { loadViewAssets } from './assets.js';
import { chartOf, type DelayDurations, type StateLabeler } from './chart.js';
import { defaultDurations, defaultStateLabels } from './labels.js';
import type { CoverageEntryData, CoveragePageData } from './protocol.js';
import { escapeHtml } from './server.js';

/** Options of the coverage page: title and state labels. */
export interface CoveragePageOptions {
  title?: string;
  labels?: StateLabeler;
  durations?: DelayDurations;
}

/** The data the coverage page draws, from the entries `renderCoverageMarkdown` takes. */
export function coveragePageData(entries: readonly ReportEntry[], options: CoveragePageOptions = {}): CoveragePageData {
  const labels = options.labels ?? defaultStateLabels;
  const durations = options.durations ?? defaultDurations;
  return {
    title: options.title ?? 'Path coverage',
    entries: entries.map(({ coverage, pathSet, pinnedPairs }): CoverageEntryData => {
      const machines: AnyStateMachine[] = pathSet.kind === 'system' ? machinesOf(pathSet.machine) : [pathSet.machine];
      const covered = new Set(coverage.coveredTransitions);
      const byTransition: CoverageEntryData['coverage'] = {};
      for (const machine of machines) {
        for (const t of chartOf(machine).transitions) {
          const key = `${machine.id} ${t.id}`;
          byTransition[key] = { covered: covered.has(key), paths: [] };
        }
      }
      pathSet.paths.forEach((path, index) => {
        const taken = new Set(
          [...path.initial.transitions, ...path.steps.flatMap((step) => step.transitions)].map((t) => `${t.machineId} ${t.id}`),
        );
        for (const key of taken) byTransition[key]?.paths.push(index);
      });
      return {
        machineId: coverage.machineId,
        states: coverage.states,
        transitions: coverage.transitions,
        transitionPairs: coverage.transitionPairs,
        pinnedPairs: pinnedPairs ?? null,
        paths: pathSet.paths.map((path) => ({ id: path.id, name: path.name, tags: path.tags })),
        machines: machines.map((machine) => ({
          machineId: machine.id,
          chart: chartOf(machine, { labels, durations }),
          states: coverage.byMachine[machine.id]?.states ?? { covered: 0, total: 0 },
          transitions: coverage.byMachine[machine.id]?.transitions ?? { covered: 0, total: 0 },
        })),
        coverage: byTransition,
        uncovered: coverage.uncovered.map(({ kind, machineId, id, reason }) => ({ kind, machineId, id, reason })),
      };
    }),
  };
}

/**
 * `reports/path-coverage.html`: one self-contained file (script, layout library, style and data inline;
 * its Content-Security-Policy forbids any request), openable from disk without a server or network.
 */
export async function renderCoverageHtml(entries: readonly ReportEntry[], options: CoveragePageOptions = {}): Promise<string> {
  const data = coveragePageData(entries, options);
  const assets = await loadViewAssets();
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const script = assets.script.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>${assets.style}</style>
</head>
<body data-mode="coverage">
<div id="app"></div>
<script type="application/json" id="coverage-data">${json}</script>
<script type="module">${script}</script>
</body>
</html>
`;
}
