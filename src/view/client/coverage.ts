/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { CoverageCounter, CoverageEntryData, CoveragePageData } from '../protocol.js';
import { h } from './dom.js';
import { layoutChart, transitionText } from './layout.js';
import { markBundles, renderChart } from './svg.js';

const pct = (c: CoverageCounter) => (c.total === 0 ? 100 : (100 * c.covered) / c.total);
const counter = (c: CoverageCounter) => `${c.covered}/${c.total} (${pct(c).toFixed(1)} %)`;

/** Heat class by how many generated paths take a transition. */
export function heatOf(paths: number): string {
  if (paths === 0) return 'heat-0';
  if (paths <= 2) return 'heat-1';
  if (paths <= 10) return 'heat-2';
  if (paths <= 50) return 'heat-3';
  return 'heat-4';
}

/** The coverage report as a page: summary, every machine's diagram coloured by path count, paths per transition. */
export async function renderCoveragePage(root: HTMLElement, data: CoveragePageData): Promise<void> {
  const details = h('aside', { id: 'transition-details' }, h('p', {}, 'Click a transition to see the paths that take it and their rule IDs.'));
  root.append(
    h('header', { class: 'bar' }, h('h1', {}, data.title), h('span', { class: 'mode mode-coverage' }, 'coverage')),
    h(
      'table',
      { id: 'summary' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'traversal'),
          h('th', {}, 'states'),
          h('th', {}, 'transitions'),
          h('th', {}, 'transition pairs'),
          h('th', {}, 'paths'),
        ),
      ),
      h(
        'tbody',
        {},
        ...data.entries.map((entry) =>
          h(
            'tr',
            { 'data-entry': entry.machineId },
            h('td', {}, entry.machineId),
            h('td', {}, counter(entry.states)),
            h(
              'td',
              { class: 'transitions-total', 'data-total': entry.transitions.total, 'data-covered': entry.transitions.covered },
              counter(entry.transitions),
            ),
            h('td', {}, `${counter(entry.transitionPairs)}${entry.pinnedPairs === null ? '' : ` (pinned ${entry.pinnedPairs})`}`),
            h('td', {}, entry.paths.length),
          ),
        ),
      ),
    ),
    h(
      'p',
      { class: 'legend' },
      'Paths per transition: ',
      ...['heat-0', 'heat-1', 'heat-2', 'heat-3', 'heat-4'].map((c, i) =>
        h('span', { class: `swatch ${c}` }, ['uncovered', '1–2', '3–10', '11–50', '> 50'][i]!),
      ),
    ),
    details,
  );
  for (const entry of data.entries) root.append(await renderEntry(entry, details));
  document.body.dataset.ready = 'true';
}

async function renderEntry(entry: CoverageEntryData, details: HTMLElement): Promise<HTMLElement> {
  const section = h(
    'section',
    { class: 'coverage-entry', 'data-entry': entry.machineId },
    h('h2', {}, `${entry.machineId}: ${entry.paths.length} paths`),
  );
  for (const machine of entry.machines) {
    const layout = await layoutChart(machine.chart);
    const svg = renderChart(layout, machine.chart.machineId);
    for (const g of svg.querySelectorAll<SVGGElement>('g.transition')) {
      const key = `${machine.machineId} ${g.dataset.transitionId}`;
      const info = entry.coverage[key] ?? { covered: false, paths: [] };
      g.classList.add(info.covered ? 'covered' : 'uncovered', heatOf(info.covered ? Math.max(1, info.paths.length) : 0));
      g.dataset.paths = String(info.paths.length);
      g.addEventListener('click', () =>
        showTransition(details, entry, machine.chart.transitions.find((t) => t.id === g.dataset.transitionId)!, info),
      );
    }
    // a line shows its least covered transition
    markBundles(svg, ['heat-0', 'heat-1', 'heat-2', 'heat-3', 'heat-4']);
    for (const bundle of svg.querySelectorAll<SVGGElement>('g.bundle')) {
      const heats = ['heat-0', 'heat-1', 'heat-2', 'heat-3', 'heat-4'].filter((name) => bundle.classList.contains(name));
      bundle.classList.remove(...heats.slice(1));
    }
    section.append(
      h(
        'div',
        { class: 'machine', 'data-machine-id': machine.machineId },
        h('h3', {}, `${machine.machineId}: states ${counter(machine.states)}, transitions ${counter(machine.transitions)}`),
        svg,
      ),
    );
  }
  if (entry.uncovered.length) {
    section.append(
      h(
        'details',
        { class: 'uncovered-details' },
        h('summary', {}, `Not covered: ${entry.uncovered.length}`),
        h(
          'ul',
          { class: 'uncovered-list' },
          ...entry.uncovered.slice(0, 200).map((item) => h('li', {}, `${item.kind} ${item.machineId} ${item.id}: ${item.reason}`)),
        ),
      ),
    );
  }
  return section;
}

function showTransition(
  details: HTMLElement,
  entry: CoverageEntryData,
  t: { id: string; source: string; targets: string[] } & Parameters<typeof transitionText>[0],
  info: { covered: boolean; paths: number[] },
) {
  const paths = info.paths.map((index) => entry.paths[index]!).filter(Boolean);
  details.replaceChildren(
    h('h3', {}, `${transitionText(t)}`),
    h('p', {}, `${t.source} → ${t.targets.join(', ') || '(no target)'}`),
    h(
      'p',
      { class: info.covered ? 'covered' : 'uncovered' },
      info.covered ? `${paths.length} path(s) take it` : 'not covered by any replayed path',
    ),
    h(
      'ol',
      { id: 'covering-paths' },
      ...paths
        .slice(0, 100)
        .map((path) => h('li', {}, h('code', {}, path.id), ` ${path.name} `, h('span', { class: 'rules' }, path.tags.join(' ')))),
    ),
  );
}
