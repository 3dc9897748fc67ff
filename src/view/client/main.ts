/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { CoveragePageData, ViewMessage } from '../protocol.js';
import { renderCoveragePage } from './coverage.js';
import { h } from './dom.js';
import { StatechartPage } from './live.js';

const app = document.getElementById('app')!;
const mode = document.body.dataset.mode;

if (mode === 'coverage') {
  const data = JSON.parse(document.getElementById('coverage-data')!.textContent ?? '{}') as CoveragePageData;
  void renderCoveragePage(app, data);
} else if (mode === 'replay') {
  void startReplay();
} else {
  startLive();
}

function startLive(): void {
  const page = new StatechartPage(app, 'live');
  const source = new EventSource('events');
  let batch: ViewMessage[] = [];
  source.onopen = () => page.setConnection('connected', true);
  source.onerror = () => page.setConnection('disconnected, retrying…', false);
  source.onmessage = (event: MessageEvent<string>) => {
    batch.push(JSON.parse(event.data) as ViewMessage);
    if (batch.length === 1) {
      queueMicrotask(() => {
        const messages = batch;
        batch = [];
        page.receive(messages);
      });
    }
  };
}

async function startReplay(): Promise<void> {
  const workflowId = document.body.dataset.workflow ?? '';
  const page = new StatechartPage(app, 'replay');
  const form = h(
    'form',
    { id: 'open-workflow', method: 'get', action: 'replay' },
    h('label', {}, 'workflow id ', h('input', { name: 'workflow', value: workflowId, required: true })),
    h('button', { type: 'submit' }, 'open'),
  );
  page.controls.append(form);
  if (!workflowId) return;
  const response = await fetch(`api/replay/${encodeURIComponent(workflowId)}`);
  const body = (await response.json()) as ViewMessage[] | { error: string };
  if (!Array.isArray(body)) {
    page.controls.append(h('p', { class: 'error', id: 'replay-error' }, body.error));
    return;
  }
  const firstStep = body.findIndex((m) => m.type === 'step');
  const preamble = body.slice(0, firstStep < 0 ? body.length : firstStep);
  const steps: ViewMessage[][] = [];
  for (const message of body.slice(preamble.length)) {
    if (message.type === 'step') steps.push([message]);
    else steps.at(-1)?.push(message);
  }
  let current = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const label = h('span', { id: 'step-label' });
  const slider = h('input', { id: 'step-slider', type: 'range', min: 0, max: Math.max(0, steps.length - 1), value: 0 }) as HTMLInputElement;
  const show = (index: number) => {
    current = Math.max(0, Math.min(steps.length - 1, index));
    page.reset([...preamble, ...steps.slice(0, current + 1).flat()]);
    slider.value = String(current);
    label.textContent = `step ${current} / ${steps.length - 1}`;
    document.body.dataset.step = String(current);
  };
  slider.addEventListener('input', () => show(Number(slider.value)));
  const button = (id: string, text: string, action: () => void) => h('button', { id, type: 'button', onclick: action }, text);
  page.controls.append(
    button('step-first', 'first', () => show(0)),
    button('step-prev', 'prev', () => show(current - 1)),
    slider,
    button('step-next', 'next', () => show(current + 1)),
    button('step-last', 'last', () => show(steps.length - 1)),
    button('step-play', 'play', () => {
      if (timer) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      timer = setInterval(() => {
        if (current >= steps.length - 1 && timer) {
          clearInterval(timer);
          timer = undefined;
        } else show(current + 1);
      }, 800);
    }),
    label,
  );
  show(0);
}
