import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { formatFailure, type MachineCoverage } from './coverage.js';
import { describeMachine, enterableStates, historyDefaultTargets, invokeIdOf, type TransitionInfo } from './model.js';
import { machinesOf, type GeneratedPath, type PathSet } from './paths.js';

/** Options of {@link toMermaid}: what to mark as uncovered and how to label delays. */
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

function eventLabel(t: TransitionInfo, delayLabel: (delay: string | number) => string): string {
  if (t.kind === 'always') return 'always';
  if (t.kind === 'after') return delayLabel(t.delay ?? '');
  if (t.kind === 'done') return 'onDone';
  const invoke = invokeIdOf(t.eventType);
  if (invoke) return `${t.eventType.startsWith('xstate.error.') ? 'onError' : 'onDone'} ${invoke}`;
  return t.eventType;
}

function edgeLabel(t: TransitionInfo, delayLabel: (delay: string | number) => string, uncovered: boolean): string {
  const guard = t.guard ? ` [${t.guard}]` : '';
  return `${eventLabel(t, delayLabel)}${guard}${uncovered ? UNCOVERED_MARK : ''}`.replace(/[:;#]/g, ' ');
}

/**
 * The scope an edge between two nodes is drawn in: their lowest common ancestor, lifted out of parallel
 * states (Mermaid draws a parallel state's regions as sections separated by `--`, and an edge belongs
 * to no section).
 */
function commonScope(a: AnyStateNode, b: AnyStateNode): AnyStateNode {
  const ancestors = new Set<AnyStateNode>();
  for (let node: AnyStateNode | undefined = a.parent; node; node = node.parent) ancestors.add(node);
  let scope: AnyStateNode = a.machine.root;
  for (let node: AnyStateNode | undefined = b.parent; node; node = node.parent) {
    if (ancestors.has(node)) {
      scope = node;
      break;
    }
  }
  while (scope.type === 'parallel' && scope.parent) scope = scope.parent;
  return scope;
}

function historyNote(node: AnyStateNode): string[] {
  const deep = (node as { history?: unknown }).history === 'deep';
  const parent = node.parent!;
  const lines = [
    deep
      ? `H* deep history of ${parent.key}, restores the last active states at every depth inside it`
      : `H shallow history of ${parent.key}, restores its last active ${parent.type === 'parallel' ? 'regions' : 'child'}`,
  ];
  const raw = (node.config as { target?: unknown }).target;
  if (raw === undefined && parent.type === 'parallel') {
    lines.push('nothing recorded → every region at its initial state');
    return lines;
  }
  const defaults = historyDefaultTargets(node).map((target) => target.key);
  lines.push(`nothing recorded → ${defaults.join(', ')}${raw === undefined ? ` (initial of ${parent.key})` : ''}`);
  return lines;
}

/**
 * A Mermaid `stateDiagram-v2` of a machine: compound states nested, the regions of a parallel state
 * separated by `--`, history states drawn as `H` / `H*` with a note, guarded edges labelled with the
 * guard, delayed edges with their delay, invoke outcomes as `onDone <id>` / `onError <id>`.
 * Transitions of the root are drawn from every top-level state they can leave (a root-level `after`
 * fires once, so not from states that only it leads to); targetless transitions are listed in a note;
 * uncovered transitions and states are marked.
 */
export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const uncovered = new Set(options.uncovered ?? []);
  const uncoveredStates = new Set(options.uncoveredStates ?? []);
  const delayLabel = options.delayLabel ?? ((delay) => `after ${delay}`);
  const model = describeMachine(machine);
  const root = machine.root as AnyStateNode;
  const parallelRoot = root.type === 'parallel';
  const rootId = `${machine.id.replace(/[^A-Za-z0-9_]/g, '_')}_root`;
  const idOf = (node: AnyStateNode) => (node === root ? rootId : mermaidId(node));
  const byId = (id: string) => machine.getStateNodeById(id) as AnyStateNode;

  const edges = new Map<AnyStateNode, string[]>();
  const notes = new Map<AnyStateNode, string[]>();
  const push = (map: Map<AnyStateNode, string[]>, node: AnyStateNode, line: string) => {
    const list = map.get(node) ?? [];
    list.push(line);
    map.set(node, list);
  };
  const topLevel = (Object.values(root.states) as AnyStateNode[]).filter((node) => node.type !== 'history');
  const allNodes = (node: AnyStateNode): AnyStateNode[] => [node, ...(Object.values(node.states) as AnyStateNode[]).flatMap(allNodes)];
  for (const node of allNodes(root)) {
    if (node.type === 'history') for (const line of historyNote(node)) push(notes, node, line);
  }
  for (const t of model.transitions) {
    const label = edgeLabel(t, delayLabel, uncovered.has(t.id));
    const source = byId(t.source);
    if (t.targets.length === 0) {
      const holder = source === root ? (parallelRoot ? root : topLevel[0]) : source;
      if (holder) push(notes, holder, source === root && !parallelRoot ? `any state: ${label}` : label);
      continue;
    }
    let sources = [source];
    if (source === root && !parallelRoot) {
      const before = t.kind === 'after' ? enterableStates(machine, (other) => other.id === t.id) : null;
      sources = topLevel.filter((node) => node.type !== 'final' && (!before || before.has(node.id)));
    }
    for (const from of sources) {
      for (const targetId of t.targets) {
        const target = byId(targetId);
        push(edges, from === root ? root : commonScope(from, target), `${idOf(from)} --> ${idOf(target)} : ${label}`);
      }
    }
  }

  const lines = ['stateDiagram-v2'];
  const renderNotes = (node: AnyStateNode, indent: string) => {
    const note = notes.get(node);
    if (!note?.length) return;
    lines.push(`${indent}note right of ${idOf(node)}`);
    for (const line of note) lines.push(`${indent}  ${line}`);
    lines.push(`${indent}end note`);
  };
  const declare = (child: AnyStateNode, indent: string) => {
    if (child.type === 'history') {
      lines.push(`${indent}state "${(child as { history?: unknown }).history === 'deep' ? 'H*' : 'H'}" as ${idOf(child)}`);
      return;
    }
    if (child.path.length > 1 || child.key !== idOf(child)) lines.push(`${indent}state "${child.key}" as ${idOf(child)}`);
    if (Object.values(child.states).length > 0) {
      lines.push(`${indent}state ${idOf(child)} {`);
      render(child, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };
  const render = (node: AnyStateNode, indent: string) => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (node.type === 'parallel') {
      const regions = children.filter((child) => child.type !== 'history');
      const histories = children.filter((child) => child.type === 'history');
      regions.forEach((region, index) => {
        if (index > 0) lines.push(`${indent}--`);
        if (index === 0) for (const history of histories) declare(history, indent);
        declare(region, indent);
        if (region.type === 'final') lines.push(`${indent}${idOf(region)} --> [*]`);
        if (index === 0) for (const history of histories) renderNotes(history, indent);
        renderNotes(region, indent);
      });
      return;
    }
    const initial = node.initial?.target?.[0] as AnyStateNode | undefined;
    if (initial) lines.push(`${indent}[*] --> ${idOf(initial)}`);
    for (const child of children) declare(child, indent);
    for (const child of children) if (child.type === 'final') lines.push(`${indent}${idOf(child)} --> [*]`);
    for (const line of edges.get(node) ?? []) lines.push(`${indent}${line}`);
    for (const child of children) renderNotes(child, indent);
  };
  if (parallelRoot) {
    lines.push(`  state "${machine.id}" as ${rootId}`, `  [*] --> ${rootId}`, `  state ${rootId} {`);
    render(root, '    ');
    lines.push('  }');
    for (const line of edges.get(root) ?? []) lines.push(`  ${line}`);
    renderNotes(root, '  ');
  } else {
    render(root, '  ');
  }
  const marked = model.states.filter((state) => state.parent !== null && uncoveredStates.has(state.id));
  if (marked.length) {
    lines.push('  classDef uncovered fill:#fdd,stroke:#c00,color:#900');
    lines.push(`  class ${marked.map((state) => idOf(byId(state.id))).join(',')} uncovered`);
  }
  return lines.join('\n');
}

/** One machine of a coverage report: its coverage and the paths behind it. */
export interface ReportEntry {
  coverage: MachineCoverage;
  pathSet: PathSet;
  /** Pinned transition-pair figure, if any. */
  pinnedPairs?: number;
}

/** Options of {@link renderCoverageMarkdown}. */
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
    out.push(
      `| ${coverage.machineId} | ${cell(coverage.states)} | ${cell(coverage.transitions)} | ${cell(coverage.transitionPairs)} | ${coverage.paths} |`,
    );
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
    out.push(
      `| transitions | ${coverage.transitions.covered} | ${coverage.transitions.total} | ${pct(coverage.transitions.covered, coverage.transitions.total)} |`,
    );
    out.push(
      `| transition pairs | ${coverage.transitionPairs.covered} | ${coverage.transitionPairs.total} | ${pct(coverage.transitionPairs.covered, coverage.transitionPairs.total)}${pinnedPairs === undefined ? '' : ` (pinned ≥ ${pinnedPairs})`} |`,
    );
    if (coverage.history && coverage.history.total > 0) {
      out.push(
        `| history restores | ${coverage.history.covered} | ${coverage.history.total} | ${pct(coverage.history.covered, coverage.history.total)} |`,
      );
    }
    for (const region of coverage.regions ?? []) {
      const name = `${coverage.machines.length > 1 ? `${region.machineId}: ` : ''}region ${region.region}`;
      out.push(
        `| ${name}: states / transitions | ${region.states.covered} / ${region.transitions.covered} | ${region.states.total} / ${region.transitions.total} | |`,
      );
    }
    if (coverage.machines.length > 1) {
      for (const [id, counts] of Object.entries(coverage.byMachine)) {
        out.push(
          `| ${id}: states / transitions | ${counts.states.covered} / ${counts.transitions.covered} | ${counts.states.total} / ${counts.transitions.total} | |`,
        );
      }
    }
    const machines = pathSet.kind === 'system' ? [pathSet.machine, ...childMachines(pathSet)] : [pathSet.machine];
    for (const machine of machines) {
      const transitions = coverage.uncovered
        .filter((item) => item.kind === 'transition' && item.machineId === machine.id)
        .map((item) => item.id);
      const states = coverage.uncovered.filter((item) => item.kind === 'state' && item.machineId === machine.id).map((item) => item.id);
      out.push(
        '',
        `### Diagram: ${machine.id}`,
        '',
        '```mermaid',
        toMermaid(machine, { uncovered: transitions, uncoveredStates: states, delayLabel: options.delayLabel }),
        '```',
      );
    }
    const failures = coverage.failures ?? [];
    if (failures.length) {
      out.push('', `### Machine failures (${failures.length})`, '');
      for (const failure of failures) out.push(`- ${formatFailure(failure)}`);
    }
    const items = coverage.uncovered.filter((item) => item.kind !== 'transitionPair');
    const pairs = coverage.uncovered.filter((item) => item.kind === 'transitionPair');
    out.push('', '### Uncovered', '');
    if (!items.length && !pairs.length) {
      out.push(`Nothing: every state, transition${coverage.history?.total ? ', history restore' : ''} and feasible transition pair is covered.`);
    }
    for (const item of items) out.push(`- ${item.kind} \`${item.machineId}\` \`${item.id}\`: ${item.reason}`);
    if (pairs.length) {
      out.push(`- ${pairs.length} feasible transition pair(s) never consecutive on a generated path:`);
      for (const item of pairs) out.push(`  - \`${item.id}\``);
    }
    const excluded = coverage.excluded ?? [];
    if (excluded.length) {
      out.push('', `### Excluded from the totals (${excluded.length})`, '');
      for (const item of excluded) out.push(`- ${item.kind} \`${item.machineId}\` \`${item.id}\`: ${item.reason}`);
    }
    out.push('', `### Paths (${pathSet.paths.length})`, '');
    for (const path of pathSet.paths) {
      out.push(`1. \`${path.variant}\` ${fullName(path)}${path.tags.length ? ` — ${path.tags.join(', ')}` : ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function childMachines(pathSet: PathSet): AnyStateMachine[] {
  return machinesOf(pathSet.machine).filter((machine) => machine !== pathSet.machine);
}
