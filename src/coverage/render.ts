import type { AnyStateMachine, AnyStateNode } from 'xstate';
import type { MachineCoverage } from './coverage.js';
import { describeMachine, type TransitionInfo } from './model.js';
import type { GeneratedPath, PathSet } from './paths.js';

export interface MermaidOptions {
  /** Transition ids (`source|event|index`) drawn as uncovered. */
  uncovered?: Iterable<string>;
  /** State node ids drawn as uncovered. */
  uncoveredStates?: Iterable<string>;
  /** Label of a delayed edge (default `after <delay>`), e.g. `after 48h`. */
  delayLabel?: (delay: string | number) => string;
}

const UNCOVERED_MARK = ' ✗ uncovered';

/** Mermaid needs plain ids; nested states are named by their path. */
const mermaidId = (node: AnyStateNode) => node.path.map((key) => key.replace(/[^A-Za-z0-9_]/g, '_')).join('__');

function edgeLabel(t: TransitionInfo, delayLabel: (delay: string | number) => string, uncovered: boolean): string {
  const event = t.kind === 'always' ? 'always' : t.kind === 'after' ? delayLabel(t.delay ?? '') : t.eventType;
  const guard = t.guard ? ` [${t.guard}]` : '';
  return `${event}${guard}${uncovered ? UNCOVERED_MARK : ''}`.replace(/[:;#]/g, ' ');
}

/** Lowest common compound ancestor of two nodes (the scope an edge between them is drawn in). */
function commonScope(a: AnyStateNode, b: AnyStateNode): AnyStateNode {
  const ancestors = new Set<AnyStateNode>();
  for (let node: AnyStateNode | undefined = a.parent; node; node = node.parent) ancestors.add(node);
  for (let node: AnyStateNode | undefined = b.parent; node; node = node.parent) if (ancestors.has(node)) return node;
  return a.machine.root;
}

/**
 * A Mermaid `stateDiagram-v2` of a machine: compound states nested, guarded edges labelled with the
 * guard, delayed edges with their delay, transitions of the root drawn from every top-level state,
 * targetless transitions listed in a note, uncovered transitions and states marked.
 */
export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const uncovered = new Set(options.uncovered ?? []);
  const uncoveredStates = new Set(options.uncoveredStates ?? []);
  const delayLabel = options.delayLabel ?? ((delay) => `after ${delay}`);
  const model = describeMachine(machine);
  const root = machine.root as AnyStateNode;
  const byId = (id: string) => machine.getStateNodeById(id) as AnyStateNode;

  const edges = new Map<AnyStateNode, string[]>();
  const notes = new Map<AnyStateNode, string[]>();
  const push = (map: Map<AnyStateNode, string[]>, node: AnyStateNode, line: string) => {
    const list = map.get(node) ?? [];
    list.push(line);
    map.set(node, list);
  };
  const topLevel = Object.values(root.states) as AnyStateNode[];
  for (const t of model.transitions) {
    const label = edgeLabel(t, delayLabel, uncovered.has(t.id));
    const source = byId(t.source);
    if (t.targets.length === 0) {
      const holder = source === root ? topLevel[0] : source;
      if (holder) push(notes, holder, source === root ? `any state: ${label}` : label);
      continue;
    }
    const sources = source === root ? topLevel.filter((node) => node.type !== 'final') : [source];
    for (const from of sources) {
      for (const targetId of t.targets) {
        const target = byId(targetId);
        push(edges, commonScope(from, target), `${mermaidId(from)} --> ${mermaidId(target)} : ${label}`);
      }
    }
  }

  const lines = ['stateDiagram-v2'];
  const render = (node: AnyStateNode, indent: string) => {
    const children = Object.values(node.states) as AnyStateNode[];
    const initial = node.initial?.target?.[0] as AnyStateNode | undefined;
    if (initial && node.type !== 'parallel') lines.push(`${indent}[*] --> ${mermaidId(initial)}`);
    for (const child of children) {
      if (child.path.length > 1 || child.key !== mermaidId(child)) lines.push(`${indent}state "${child.key}" as ${mermaidId(child)}`);
      const inner = Object.values(child.states).length > 0;
      if (inner) {
        lines.push(`${indent}state ${mermaidId(child)} {`);
        render(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
    }
    for (const child of children) if (child.type === 'final') lines.push(`${indent}${mermaidId(child)} --> [*]`);
    for (const line of edges.get(node) ?? []) lines.push(`${indent}${line}`);
    for (const child of children) {
      const note = notes.get(child);
      if (!note?.length) continue;
      lines.push(`${indent}note right of ${mermaidId(child)}`);
      for (const line of note) lines.push(`${indent}  ${line}`);
      lines.push(`${indent}end note`);
    }
  };
  render(root, '  ');
  const marked = model.states.filter((state) => state.parent !== null && uncoveredStates.has(state.id));
  if (marked.length) {
    lines.push('  classDef uncovered fill:#fdd,stroke:#c00,color:#900');
    lines.push(`  class ${marked.map((state) => mermaidId(byId(state.id))).join(',')} uncovered`);
  }
  return lines.join('\n');
}

export interface ReportEntry {
  coverage: MachineCoverage;
  pathSet: PathSet;
  /** Pinned transition-pair figure, if any. */
  pinnedPairs?: number;
}

export interface MarkdownOptions extends Pick<MermaidOptions, 'delayLabel'> {
  title?: string;
}

const pct = (covered: number, total: number) => (total === 0 ? '100.0' : ((100 * covered) / total).toFixed(1));
const cell = (counter: { covered: number; total: number }) => `${counter.covered}/${counter.total} (${pct(counter.covered, counter.total)} %)`;

/** The whole path in words (test names shorten it; the report does not). */
function fullName(path: GeneratedPath): string {
  return [path.initial.state, ...path.steps.map((step) => ` —${step.label}→ ${step.state}`)].join('');
}

/** The coverage report: a summary, then per machine a table, a diagram with uncovered marks, and the paths in words. */
export function renderCoverageMarkdown(entries: readonly ReportEntry[], options: MarkdownOptions = {}): string {
  const out: string[] = [`# ${options.title ?? 'Path coverage'}`, ''];
  out.push('| machine | states | transitions | transition pairs | paths |', '|---|---|---|---|---|');
  for (const { coverage } of entries) {
    out.push(`| ${coverage.machineId} | ${cell(coverage.states)} | ${cell(coverage.transitions)} | ${cell(coverage.transitionPairs)} | ${coverage.paths} |`);
  }
  for (const { coverage, pathSet, pinnedPairs } of entries) {
    out.push('', `## ${coverage.machineId}`, '');
    if (coverage.machines.length > 1) out.push(`Composition: ${coverage.machines.join(', ')} definitions, counted inside the system.`, '');
    out.push(
      `Input variants: ${pathSet.explorations.map((e) => `\`${e.variant.label}\` (${e.vertices.size} vertices, ${e.edges.length} edges)`).join(', ')}.`,
      '',
    );
    out.push('| | covered | total | % |', '|---|---|---|---|');
    out.push(`| states | ${coverage.states.covered} | ${coverage.states.total} | ${pct(coverage.states.covered, coverage.states.total)} |`);
    out.push(`| transitions | ${coverage.transitions.covered} | ${coverage.transitions.total} | ${pct(coverage.transitions.covered, coverage.transitions.total)} |`);
    out.push(
      `| transition pairs | ${coverage.transitionPairs.covered} | ${coverage.transitionPairs.total} | ${pct(coverage.transitionPairs.covered, coverage.transitionPairs.total)}${pinnedPairs === undefined ? '' : ` (pinned ≥ ${pinnedPairs})`} |`,
    );
    if (coverage.machines.length > 1) {
      for (const [id, counts] of Object.entries(coverage.byMachine)) {
        out.push(`| ${id}: states / transitions | ${counts.states.covered} / ${counts.transitions.covered} | ${counts.states.total} / ${counts.transitions.total} | |`);
      }
    }
    const machines = pathSet.kind === 'system' ? [pathSet.machine, ...childMachines(pathSet)] : [pathSet.machine];
    for (const machine of machines) {
      const transitions = coverage.uncovered.filter((item) => item.kind === 'transition' && item.machineId === machine.id).map((item) => item.id);
      const states = coverage.uncovered.filter((item) => item.kind === 'state' && item.machineId === machine.id).map((item) => item.id);
      out.push('', `### Diagram: ${machine.id}`, '', '```mermaid', toMermaid(machine, { uncovered: transitions, uncoveredStates: states, delayLabel: options.delayLabel }), '```');
    }
    const items = coverage.uncovered.filter((item) => item.kind !== 'transitionPair');
    const pairs = coverage.uncovered.filter((item) => item.kind === 'transitionPair');
    out.push('', '### Uncovered', '');
    if (!items.length && !pairs.length) out.push('Nothing: every state, transition and feasible transition pair is covered.');
    for (const item of items) out.push(`- ${item.kind} \`${item.machineId}\` \`${item.id}\`: ${item.reason}`);
    if (pairs.length) {
      out.push(`- ${pairs.length} feasible transition pair(s) never consecutive on a generated path:`);
      for (const item of pairs) out.push(`  - \`${item.id}\``);
    }
    out.push('', `### Paths (${pathSet.paths.length})`, '');
    for (const path of pathSet.paths) {
      out.push(`1. \`${path.variant}\` ${fullName(path)}${path.tags.length ? ` — ${path.tags.join(', ')}` : ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function childMachines(pathSet: PathSet): AnyStateMachine[] {
  const found: AnyStateMachine[] = [];
  for (const logic of Object.values(pathSet.machine.implementations.actors ?? {})) {
    if (logic && typeof logic === 'object' && 'root' in logic && 'getStateNodeById' in logic) found.push(logic as AnyStateMachine);
  }
  return found;
}
