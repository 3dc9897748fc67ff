/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import ElkModule from 'elkjs/lib/elk.bundled.js';
import type { ChartDefinition, ChartState, ChartTransition } from '../protocol.js';
import { formatDuration } from './format.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedState extends Box {
  state: ChartState;
  /** Transitions listed inside the node: targetless ones, and those to itself, an ancestor or a descendant. */
  rows: Array<{ transition: ChartTransition; text: string; y: number }>;
  headerHeight: number;
}

/** One line between two states: every transition from the same source to the same target, a label line each. */
export interface PlacedEdge {
  transitions: ChartTransition[];
  target: string;
  points: Array<{ x: number; y: number }>;
  label: (Box & { lines: string[] }) | null;
}

export interface ChartLayout {
  width: number;
  height: number;
  states: PlacedState[];
  edges: PlacedEdge[];
}

const FAMILY = 'system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif';
const FONT = `12px ${FAMILY}`;
const SMALL_FONT = `11px ${FAMILY}`;
const LINE = 15;
const PAD = 8;

let context: CanvasRenderingContext2D | null = null;
export function textWidth(text: string, font = FONT): number {
  context ??= document.createElement('canvas').getContext('2d');
  if (!context) return text.length * 7;
  context.font = font;
  return Math.ceil(context.measureText(text).width);
}

/** What an edge or a row says: the event (or `after 48h`), its guard. */
export function transitionText(t: ChartTransition, delays: Record<string, number> = {}): string {
  const guard = t.guard ? ` [${t.guard}]` : '';
  if (t.kind === 'after') {
    const ms = typeof t.delay === 'number' ? t.delay : (delays[String(t.delay)] ?? t.delayMs);
    const named = typeof t.delay === 'string' ? ` ${t.delay}` : '';
    return `after${ms === null || ms === undefined ? '' : ` ${formatDuration(ms)}`}${named}${guard}`;
  }
  if (t.kind === 'always') return `always${guard}`;
  if (t.kind === 'done') return `done${guard}`;
  return `${t.eventType}${guard}`;
}

const isWithin = (states: Map<string, ChartState>, id: string, ancestor: string): boolean => {
  for (let node = states.get(id); node; node = node.parent ? states.get(node.parent) : undefined) {
    if (node.id === ancestor) return true;
  }
  return false;
};

/** Lays a chart out with ELK (layered, nested states inside their parents). */
export async function layoutChart(chart: ChartDefinition, delays: Record<string, number> = {}): Promise<ChartLayout> {
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const rows = new Map<string, ChartTransition[]>();
  const edges: Array<{ transitions: ChartTransition[]; source: string; target: string; id: string; lines: string[] }> = [];
  const bundles = new Map<string, (typeof edges)[number]>();
  for (const t of chart.transitions) {
    const internal = t.targets.length === 0 || t.targets.some((target) => isWithin(byId, target, t.source) || isWithin(byId, t.source, target));
    if (internal) {
      rows.set(t.source, [...(rows.get(t.source) ?? []), t]);
      continue;
    }
    for (const target of t.targets) {
      const key = `${t.source}\u0000${target}`;
      let bundle = bundles.get(key);
      if (!bundle) {
        bundle = { transitions: [], source: t.source, target, id: `e${edges.length}`, lines: [] };
        bundles.set(key, bundle);
        edges.push(bundle);
      }
      if (!bundle.transitions.includes(t)) {
        bundle.transitions.push(t);
        bundle.lines.push(transitionText(t, delays));
      }
    }
  }

  const rowText = (t: ChartTransition) => {
    const target = t.targets.length === 0 ? '' : ` → ${t.targets.map((id) => byId.get(id)?.key ?? id).join(', ')}`;
    return `${transitionText(t, delays)}${target}`;
  };
  const header = (s: ChartState) => {
    const lines = [s.path.length ? s.key : chart.machineId, ...(s.label ? [`${s.label['zh-CN']} · ${s.label.en}`] : [])];
    const own = rows.get(s.id) ?? [];
    const tags = s.tags.length ? textWidth(s.tags.join(' '), SMALL_FONT) + PAD : 0;
    const width =
      Math.max(60, ...lines.map((l, i) => textWidth(l) + (i === 0 ? tags : 0)), ...own.map((t) => textWidth(`↳ ${rowText(t)}`, SMALL_FONT))) +
      2 * PAD;
    return { lines, own, width, height: PAD + lines.length * LINE + own.length * (LINE - 1) + PAD / 2 };
  };

  type ElkNode = {
    id: string;
    width?: number;
    height?: number;
    x?: number;
    y?: number;
    children?: ElkNode[];
    layoutOptions?: Record<string, string>;
    edges?: ElkEdge[];
  };
  type ElkEdge = {
    id: string;
    sources: string[];
    targets: string[];
    labels?: Array<{ text: string; width: number; height: number; x?: number; y?: number }>;
    sections?: Array<{ startPoint: { x: number; y: number }; endPoint: { x: number; y: number }; bendPoints?: Array<{ x: number; y: number }> }>;
  };
  const headers = new Map<string, ReturnType<typeof header>>();
  const build = (s: ChartState): ElkNode => {
    const h = header(s);
    headers.set(s.id, h);
    const children = chart.states.filter((c) => c.parent === s.id);
    if (children.length === 0) {
      const height = s.type === 'history' ? 28 : Math.max(36, h.height + PAD / 2);
      return { id: s.id, width: s.type === 'history' ? 28 : h.width, height };
    }
    return {
      id: s.id,
      layoutOptions: {
        'elk.padding': `[top=${h.height + PAD},left=${PAD * 2},bottom=${PAD * 2},right=${PAD * 2}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${h.width}, ${h.height + 20})`,
        ...(s.type === 'parallel' ? { 'elk.direction': 'RIGHT' } : {}),
      },
      children: children.map(build),
    };
  };
  const rootState = chart.states.find((s) => s.parent === null);
  if (!rootState) return { width: 0, height: 0, states: [], edges: [] };
  const graph: ElkNode = {
    id: '__graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '48',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeLabel': '4',
      'elk.spacing.edgeEdge': '6',
      'elk.spacing.edgeNode': '10',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '6',
      'elk.layered.spacing.edgeNodeBetweenLayers': '12',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.padding': '[top=4,left=4,bottom=4,right=4]',
    },
    children: [build(rootState)],
    edges: edges.map((e) => ({
      id: e.id,
      sources: [e.source],
      targets: [e.target],
      labels: [
        {
          text: e.lines.join('\n'),
          width: Math.max(...e.lines.map((line) => textWidth(line, SMALL_FONT))) + 6,
          height: 13 * e.lines.length + 2,
        },
      ],
    })),
  };
  // a CommonJS module: its default import is the constructor when bundled, the module object to TypeScript
  const Elk = ((ElkModule as { default?: unknown }).default ?? ElkModule) as typeof ElkModule.default;
  const elk = new Elk();
  const laid = (await elk.layout(graph as never)) as unknown as ElkNode;

  const placed: PlacedState[] = [];
  const place = (node: ElkNode) => {
    const state = byId.get(node.id);
    if (state) {
      const h = headers.get(node.id)!;
      const firstRow = PAD + h.lines.length * LINE + 4;
      placed.push({
        state,
        x: node.x ?? 0,
        y: node.y ?? 0,
        width: node.width ?? 0,
        height: node.height ?? 0,
        headerHeight: h.height,
        rows: h.own.map((transition, i) => ({ transition, text: `↳ ${rowText(transition)}`, y: firstRow + i * (LINE - 1) })),
      });
    }
    for (const child of node.children ?? []) place(child);
  };
  for (const child of laid.children ?? []) place(child);
  const byEdgeId = new Map(edges.map((e) => [e.id, e]));
  const placedEdges: PlacedEdge[] = (laid.edges ?? []).map((edge) => {
    const source = byEdgeId.get(edge.id)!;
    const section = edge.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    const label = edge.labels?.[0];
    return {
      transitions: source.transitions,
      target: source.target,
      points,
      label: label ? { x: label.x ?? 0, y: label.y ?? 0, width: label.width, height: label.height, lines: source.lines } : null,
    };
  });
  return { width: laid.width ?? 0, height: laid.height ?? 0, states: placed, edges: placedEdges };
}
