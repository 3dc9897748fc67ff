/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { ChartLayout } from './layout.js';

const SVG = 'http://www.w3.org/2000/svg';

export function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The chart as SVG: states are `g.state[data-state-id]` (with `data-label-zh-cn`/`data-label-en` when
 * labelled), transitions `g.transition[data-transition-id]` (an edge, or a row inside its source state).
 * A line between two states (`g.bundle`) carries every transition from that source to that target,
 * each its own label line. Colours and highlights are classes set by the caller (`markBundles`).
 */
export function renderChart(layout: ChartLayout, machineId: string): SVGSVGElement {
  const margin = 6;
  const svg = el('svg', {
    class: 'chart',
    width: Math.ceil(layout.width + 2 * margin),
    height: Math.ceil(layout.height + 2 * margin),
    viewBox: `${-margin} ${-margin} ${Math.ceil(layout.width + 2 * margin)} ${Math.ceil(layout.height + 2 * margin)}`,
    'data-machine': machineId,
  });
  const defs = el('defs');
  const marker = el('marker', {
    id: `arrow-${machineId}`,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 9,
    markerHeight: 9,
    markerUnits: 'userSpaceOnUse',
    orient: 'auto-start-reverse',
  });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  defs.append(marker);
  svg.append(defs);

  const states = el('g', { class: 'states' });
  for (const placed of [...layout.states].sort((a, b) => a.state.path.length - b.state.path.length)) {
    const { state } = placed;
    const g = el('g', {
      class: `state state-${state.type}${state.initial ? ' initial' : ''}`,
      'data-state-id': state.id,
      'data-state-key': state.key,
      'data-leaf': layout.states.some((s) => s.state.parent === state.id) ? 'false' : 'true',
    });
    if (state.label) {
      g.setAttribute('data-label-zh-cn', state.label['zh-CN']);
      g.setAttribute('data-label-en', state.label.en);
    }
    if (state.type === 'history') {
      g.append(el('circle', { cx: placed.x + placed.width / 2, cy: placed.y + placed.height / 2, r: placed.width / 2, class: 'box' }));
      g.append(
        el(
          'text',
          { x: placed.x + placed.width / 2, y: placed.y + placed.height / 2 + 4, 'text-anchor': 'middle', class: 'title' },
          state.history === 'deep' ? 'H*' : 'H',
        ),
      );
    } else {
      g.append(el('rect', { x: placed.x, y: placed.y, width: placed.width, height: placed.height, rx: 8, class: 'box' }));
      if (state.type === 'final') {
        g.append(
          el('rect', { x: placed.x + 3, y: placed.y + 3, width: placed.width - 6, height: placed.height - 6, rx: 6, class: 'final-ring' }),
        );
      }
      if (state.initial) g.append(el('circle', { cx: placed.x, cy: placed.y, r: 4, class: 'initial-dot' }));
      g.append(el('text', { x: placed.x + 8, y: placed.y + 18, class: 'title' }, state.path.length ? state.key : machineId));
      if (state.label)
        g.append(el('text', { x: placed.x + 8, y: placed.y + 33, class: 'label' }, `${state.label['zh-CN']} · ${state.label.en}`));
      if (state.tags.length) {
        g.append(el('text', { x: placed.x + placed.width - 6, y: placed.y + 14, 'text-anchor': 'end', class: 'tags' }, state.tags.join(' ')));
      }
    }
    if (state.description) g.append(el('title', {}, state.description));
    for (const row of placed.rows) {
      const rowG = el('g', { class: 'transition internal', 'data-transition-id': row.transition.id });
      rowG.append(el('text', { x: placed.x + 10, y: placed.y + row.y + 10, class: 'row' }, row.text));
      if (row.transition.description) rowG.append(el('title', {}, row.transition.description));
      g.append(rowG);
    }
    states.append(g);
  }
  svg.append(states);

  const edges = el('g', { class: 'edges' });
  for (const edge of layout.edges) {
    const bundle = el('g', { class: 'bundle' });
    if (edge.points.length) {
      const d = edge.points.map((p, i) => `${i ? 'L' : 'M'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
      bundle.append(el('path', { d, class: 'line', 'marker-end': `url(#arrow-${machineId})` }));
    }
    if (edge.label)
      bundle.append(
        el('rect', { x: edge.label.x, y: edge.label.y, width: edge.label.width, height: edge.label.height, rx: 3, class: 'label-bg' }),
      );
    edge.transitions.forEach((transition, i) => {
      const g = el('g', { class: `transition edge kind-${transition.kind}`, 'data-transition-id': transition.id });
      if (edge.label)
        g.append(el('text', { x: edge.label.x + 3, y: edge.label.y + 11 + 13 * i, class: 'edge-label' }, edge.label.lines[i] ?? ''));
      if (transition.description) g.append(el('title', {}, transition.description));
      bundle.append(g);
    });
    edges.append(bundle);
  }
  svg.append(edges);
  return svg;
}

/** A line takes the classes its transitions have (the first one listed wins for colours). */
export function markBundles(svg: SVGSVGElement, classes: readonly string[]): void {
  for (const bundle of svg.querySelectorAll<SVGGElement>('g.bundle')) {
    const members = [...bundle.querySelectorAll<SVGGElement>('g.transition')];
    for (const name of classes)
      bundle.classList.toggle(
        name,
        members.some((member) => member.classList.contains(name)),
      );
  }
}
