/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { DeadlineView, Label, ViewMessage } from '../protocol.js';
import { h } from './dom.js';
import { formatDuration, formatRemaining, formatTime, formatValue } from './format.js';
import { layoutChart } from './layout.js';
import { apply, emptyState, roots, statusLabel, treeOf, type ActorState, type ViewState } from './state.js';
import { markBundles, renderChart } from './svg.js';

type Locale = 'zh-CN' | 'en';

interface ChartSlot {
  article: HTMLElement;
  svg: SVGSVGElement | null;
  layoutKey: string;
  pending: boolean;
}

/** The live page and the replay page: the same view, fed by the event stream or by a stored trail. */
export class StatechartPage {
  state: ViewState = emptyState();
  private locale: Locale = 'zh-CN';
  private selectedRoot: string | null = null;
  private followLatest = true;
  private selectedActor: string | null = null;
  private readonly slots = new Map<string, ChartSlot>();
  private scheduled = false;
  readonly header = h('header', { class: 'bar' });
  readonly controls = h('div', { class: 'controls' });
  readonly charts = h('section', { id: 'charts' });
  readonly sidebar = h('aside', { id: 'sidebar' });
  readonly logSection = h('section', { id: 'log' });

  constructor(
    private readonly root: HTMLElement,
    readonly mode: 'live' | 'replay',
  ) {
    root.append(this.header, this.controls, h('main', {}, this.charts, this.sidebar), this.logSection);
  }

  /** Applies messages and draws on the next frame. */
  receive(messages: readonly ViewMessage[]): void {
    for (const message of messages) apply(this.state, message);
    this.schedule();
  }

  /** Starts over from these messages (replay steps). */
  reset(messages: readonly ViewMessage[]): void {
    this.state = emptyState();
    this.receive(messages);
  }

  setConnection(text: string, ok: boolean): void {
    this.root.dataset.connection = ok ? 'open' : 'closed';
    this.connection = text;
    this.schedule();
  }
  private connection = '';

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  private label(label: Label | null): string {
    return label ? label[this.locale] : '';
  }

  render(): void {
    const { state } = this;
    const allRoots = roots(state);
    if (this.followLatest || !this.selectedRoot || !state.actors.has(this.selectedRoot)) this.selectedRoot = allRoots[0]?.sessionId ?? null;
    const actors = this.selectedRoot ? treeOf(state, this.selectedRoot) : [];
    if (!this.selectedActor || !state.actors.has(this.selectedActor)) this.selectedActor = actors[0]?.sessionId ?? null;

    this.renderHeader(allRoots);
    this.renderCharts(actors);
    this.renderSidebar(actors);
    this.renderLog(actors);
    document.body.dataset.ready = 'true';
  }

  private renderHeader(allRoots: ActorState[]): void {
    const select = h(
      'select',
      {
        id: 'workflow-select',
        onchange: (event: Event) => {
          const value = (event.target as HTMLSelectElement).value;
          this.followLatest = value === '';
          this.selectedRoot = value || null;
          this.selectedActor = null;
          this.render();
        },
      },
      h('option', { value: '', selected: this.followLatest }, 'latest'),
      ...allRoots.map((root) =>
        h('option', { value: root.sessionId, selected: !this.followLatest && root.sessionId === this.selectedRoot }, rootName(root)),
      ),
    );
    const localeButton = h(
      'button',
      {
        id: 'locale',
        type: 'button',
        onclick: () => {
          this.locale = this.locale === 'zh-CN' ? 'en' : 'zh-CN';
          this.render();
        },
      },
      this.locale === 'zh-CN' ? 'English' : '中文',
    );
    this.header.replaceChildren(
      ...present(
        h('h1', {}, this.state.title || 'Statecharts'),
        h('span', { class: `mode mode-${this.mode}` }, this.mode === 'live' ? 'live' : 'replay'),
        this.mode === 'live' ? h('span', { id: 'connection' }, this.connection) : null,
        h('span', { id: 'clock', 'data-now': this.state.now }, formatTime(this.state.now)),
        h('label', {}, 'workflow ', select),
        localeButton,
        h(
          'label',
          {},
          h('input', {
            id: 'fit',
            type: 'checkbox',
            checked: document.body.classList.contains('fit-charts'),
            onchange: (event: Event) => document.body.classList.toggle('fit-charts', (event.target as HTMLInputElement).checked),
          }),
          ' fit width',
        ),
      ),
    );
  }

  private renderCharts(actors: ActorState[]): void {
    const wanted = new Set(actors.map((a) => a.sessionId));
    for (const [sessionId, slot] of this.slots) {
      if (!wanted.has(sessionId)) {
        slot.article.remove();
        this.slots.delete(sessionId);
      }
    }
    actors.forEach((actor, index) => {
      const chart = actor.machineKey ? this.state.charts.get(actor.machineKey) : undefined;
      let slot = this.slots.get(actor.sessionId);
      if (!slot) {
        const article = h('article', {
          class: 'actor',
          'data-session-id': actor.sessionId,
          'data-machine-id': chart?.machineId ?? '',
          onclick: () => {
            this.selectedActor = actor.sessionId;
            this.render();
          },
        });
        slot = { article, svg: null, layoutKey: '', pending: false };
        this.slots.set(actor.sessionId, slot);
      }
      if (this.charts.children[index] !== slot.article) this.charts.insertBefore(slot.article, this.charts.children[index] ?? null);
      const status = chart ? statusLabel(chart, actor.activeIds) : null;
      const heading = h(
        'h2',
        {},
        h('span', { class: 'actor-id' }, actor.parentId === null ? rootName(actor) : actor.actorId),
        h('span', { class: 'machine-id' }, chart?.machineId ?? 'actor'),
        h('span', { class: 'value' }, formatValue(actor.value)),
        h(
          'span',
          { class: 'status', 'data-role': 'status', 'data-label-zh-cn': status?.['zh-CN'] ?? '', 'data-label-en': status?.en ?? '' },
          this.label(status),
        ),
        h('span', { class: `actor-status actor-${actor.status}` }, actor.status),
        actor.tags.length ? h('span', { class: 'tags' }, actor.tags.join(' ')) : null,
      );
      slot.article.classList.toggle('selected', actor.sessionId === this.selectedActor);
      slot.article.dataset.status = actor.status;
      const oldHeading = slot.article.querySelector('h2');
      if (oldHeading) oldHeading.replaceWith(heading);
      else slot.article.prepend(heading);
      if (!chart) return;
      const layoutKey = `${actor.machineKey}|${JSON.stringify(actor.delays)}`;
      if (slot.layoutKey !== layoutKey && !slot.pending) {
        slot.pending = true;
        const currentSlot = slot;
        layoutChart(chart, actor.delays).then(
          (layout) => {
            currentSlot.pending = false;
            currentSlot.layoutKey = layoutKey;
            const svg = renderChart(layout, chart.machineId);
            if (currentSlot.svg) currentSlot.svg.replaceWith(svg);
            else currentSlot.article.append(svg);
            currentSlot.svg = svg;
            this.render();
          },
          (error: unknown) => {
            currentSlot.pending = false;
            currentSlot.layoutKey = layoutKey;
            currentSlot.article.append(h('pre', { class: 'error' }, `layout failed: ${String(error)}`));
          },
        );
      }
      if (slot.svg) highlight(slot.svg, actor);
    });
  }

  private renderSidebar(actors: ActorState[]): void {
    const selected = this.selectedActor ? this.state.actors.get(this.selectedActor) : undefined;
    const sessions = new Set(actors.map((a) => a.sessionId));
    const pending = actors.flatMap((a) => a.deadlines.map((d) => ({ deadline: d, actor: a })));
    const fired = this.state.fired.filter((d) => sessions.has(d.sessionId)).slice(-10);
    const deadlineRow = (deadline: DeadlineView, actor: ActorState | undefined, isFired: boolean) =>
      h(
        'tr',
        { class: isFired ? 'fired' : 'pending', 'data-deadline': deadline.delay, 'data-session-id': deadline.sessionId },
        h('td', {}, actor?.actorId ?? deadline.sessionId),
        h('td', { class: 'delay' }, deadline.delay),
        h('td', {}, deadline.ms === null ? '—' : formatDuration(deadline.ms)),
        h(
          'td',
          { class: 'due', title: deadline.dueAt === null ? '' : formatTime(deadline.dueAt) },
          deadline.dueAt === null ? '—' : formatTime(deadline.dueAt).slice(5),
        ),
        h(
          'td',
          { class: 'remaining' },
          isFired ? formatRemaining(0) : deadline.dueAt === null ? '—' : formatRemaining(deadline.dueAt - this.state.now),
        ),
        h('td', { title: isFired ? `fired at ${formatTime(deadline.firedAt ?? 0)}` : '' }, isFired ? 'fired' : 'pending'),
      );
    const deadlines = h(
      'table',
      { id: 'deadlines' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'actor'),
          h('th', {}, 'deadline'),
          h('th', {}, 'delay'),
          h('th', {}, 'due (UTC)'),
          h('th', {}, 'left'),
          h('th', {}, ''),
        ),
      ),
      h(
        'tbody',
        {},
        ...pending.map(({ deadline, actor }) => deadlineRow(deadline, actor, false)),
        ...fired.map((d) => deadlineRow(d, this.state.actors.get(d.sessionId), true)),
      ),
    );
    const actorList = h(
      'ul',
      { id: 'actors' },
      ...actors.map((actor) => {
        const chart = actor.machineKey ? this.state.charts.get(actor.machineKey) : undefined;
        return h(
          'li',
          {
            class: actor.sessionId === this.selectedActor ? 'selected' : undefined,
            'data-session-id': actor.sessionId,
            onclick: () => {
              this.selectedActor = actor.sessionId;
              this.render();
            },
          },
          `${actor.actorId} · ${formatValue(actor.value)} ${chart ? this.label(statusLabel(chart, actor.activeIds)) : ''}`,
        );
      }),
    );
    const step = this.state.step;
    this.sidebar.replaceChildren(
      ...present(
        h('h3', {}, 'Actors'),
        actorList,
        h('h3', {}, 'Deadlines'),
        deadlines,
        step ? h('h3', {}, `Step ${step.index}: ${step.title}`) : null,
        step ? h('pre', { id: 'step-detail' }, JSON.stringify(step.detail, null, 2)) : null,
        h('h3', {}, `Context${selected ? ` · ${selected.actorId}` : ''}`),
        h(
          'pre',
          { id: 'context' },
          selected?.context === null || selected?.context === undefined
            ? this.mode === 'replay'
              ? 'The audit trail records states and events; contexts are known for the last step only.'
              : '—'
            : JSON.stringify(selected.context, null, 2),
        ),
      ),
    );
  }

  private renderLog(actors: ActorState[]): void {
    const sessions = new Set(actors.map((a) => a.sessionId));
    const entries = this.state.log
      .filter((entry) => sessions.has(entry.sessionId))
      .slice(-200)
      .reverse();
    this.logSection.replaceChildren(
      h('h3', {}, 'Event log'),
      h(
        'table',
        { id: 'event-log' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'time (UTC)'),
            h('th', {}, 'actor'),
            h('th', {}, 'event'),
            h('th', {}, 'resulting state'),
            h('th', {}, '状态'),
            h('th', {}, 'status'),
          ),
        ),
        h(
          'tbody',
          {},
          ...entries.map((entry) =>
            h(
              'tr',
              { 'data-session-id': entry.sessionId, 'data-event': entry.eventType },
              h('td', {}, formatTime(entry.at)),
              h('td', {}, entry.actorId),
              h('td', { class: 'event' }, entry.eventType),
              h('td', {}, formatValue(entry.value)),
              h('td', {}, entry.label?.['zh-CN'] ?? ''),
              h('td', {}, entry.label?.en ?? ''),
            ),
          ),
        ),
      ),
    );
  }
}

const present = (...nodes: Array<Node | null>): Node[] => nodes.filter((node): node is Node => node !== null);

function rootName(root: ActorState): string {
  const context = root.context as Record<string, unknown> | null;
  const named =
    context && typeof context === 'object'
      ? Object.entries(context).find(([key, value]) => key.endsWith('Id') && typeof value === 'string')
      : undefined;
  return named && root.actorId !== named[1] ? `${root.actorId} (${String(named[1])})` : root.actorId;
}

function highlight(svg: SVGSVGElement, actor: ActorState): void {
  const active = new Set(actor.activeIds);
  for (const node of svg.querySelectorAll<SVGGElement>('g.state')) {
    node.classList.toggle('active', active.has(node.dataset.stateId ?? ''));
  }
  const enabled = new Set(actor.deadlines.map((d) => d.eventType));
  for (const edge of svg.querySelectorAll<SVGGElement>('g.transition')) {
    const [source = '', eventType = ''] = (edge.dataset.transitionId ?? '').split('|');
    edge.classList.toggle('from-active', active.has(source));
    edge.classList.toggle('timer-pending', enabled.has(eventType));
  }
  markBundles(svg, ['timer-pending', 'from-active']);
}
