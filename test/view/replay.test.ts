/**
 * The replay view in a real browser: the 48H plan of a JD-delivered, shipped order runs on the durable
 * runtime with a SQLite file; the replay page opens that workflow from the file and, stepped through,
 * highlights the cancel order's statuses in order and counts interceptWindow down to zero.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowRuntime,
} from '../../src/runtime/index.js';
import { replayWorkflow, startStatechartView, type RunningStatechartView } from '../../src/view/index.js';
import { chromiumPath, collectErrors, guardLoopback, launch } from './browser.js';
import { installTrails, readTrails, waitForStatus } from './page-trails.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;
const REPORTS = new URL('../../reports/view/', import.meta.url);

/** Runs the scenario on the durable runtime; returns when the workflow is done. */
async function runScenario(filename: string, inspectWorkflow?: RunningStatechartView['inspectWorkflow']): Promise<string> {
  let time = T0;
  const store = createSqliteStore({ filename });
  await store.migrate();
  const runtime: WorkflowRuntime = createWorkflowRuntime({
    store,
    clock: { now: () => time },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    workerId: 'view-test',
    onError: (error) => {
      throw error;
    },
    ...(inspectWorkflow ? { inspectWorkflow } : {}),
  });
  try {
    const { workflowId } = await runtime.openOrder({
      input: { orderId: 'order-7', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'JD', shipped: true },
    });
    let n = 0;
    const dispatch = (event: OrderEventInput) => runtime.dispatch({ workflowId, commandId: `c${(n += 1)}`, event });
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-7' });
    time += 60_000;
    await dispatch({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
    time += 60_000;
    await dispatch({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    await runtime.tick();
    time += 48 * HOUR;
    // the deadline fires, the sandbox intercepts, then refunds: a few rounds of the outbox
    for (let round = 0; round < 5; round += 1) {
      await runtime.tick();
      time += 1_000;
    }
    const view = await runtime.getWorkflow({ role: 'platform', id: 'cs-1' }, workflowId);
    expect(view.status).toBe('done');
    return workflowId;
  } finally {
    await runtime.close();
  }
}

describe.skipIf(!chromiumPath)('replay of a stored workflow (Chromium, SQLite)', () => {
  let browser: Browser;
  let server: RunningStatechartView | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'view-replay-'));
  const filename = join(dir, 'workflows.db');

  beforeAll(async () => {
    mkdirSync(REPORTS, { recursive: true });
    browser = await launch();
  });
  afterAll(async () => {
    await server?.stop();
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('P3b from the SQLite file: 物流待跟进 → 通过并拦截 → 退款中 → 退款成功, interceptWindow down to zero', async () => {
    const live = await startStatechartView({ now: () => Date.now() });
    let workflowId: string;
    try {
      workflowId = await runScenario(filename, live.inspectWorkflow);
      // the durable runtime's stream (one stable session per workflow) drew the same end state
      const livePage = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      await livePage.goto(live.url);
      await waitForStatus(livePage, '退款成功');
      await livePage.close();
    } finally {
      await live.stop();
    }

    const store = createSqliteStore({ filename });
    server = await startStatechartView({ store, title: 'replay' });
    const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const outside = await guardLoopback(page);
    const errors = collectErrors(page);
    await page.goto(`${server.url}replay?workflow=${encodeURIComponent(workflowId)}`);
    await page.waitForSelector('#step-slider');
    await installTrails(page, 'interceptWindow');
    const steps = Number(await page.locator('#step-slider').getAttribute('max'));
    expect(steps).toBeGreaterThanOrEqual(6);
    for (let step = 1; step <= steps; step += 1) {
      await page.click('#step-next');
      await expect.poll(() => page.evaluate(() => document.body.dataset.step), { timeout: 15_000 }).toBe(String(step));
      // let the chart (laid out asynchronously) catch up before the next step
      await page.waitForFunction(
        () => document.querySelectorAll('article.actor svg.chart').length === document.querySelectorAll('article.actor').length,
      );
      if (step === 4) await page.screenshot({ path: new URL('replay-follow-up.png', REPORTS).pathname, fullPage: true });
    }
    await waitForStatus(page, '退款成功');
    await page.screenshot({ path: new URL('replay-last-step.png', REPORTS).pathname, fullPage: true });

    const trails = await readTrails(page);
    expect(trails.status).toEqual(['物流待跟进', '通过并拦截', '退款中', '退款成功']);
    expect(trails.countdown[0]).toBe('48:00:00');
    expect(trails.countdown.at(-1)).toBe('0:00:00');
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);

    // the last step's pending deadlines are the store's own rows
    const messages = await replayWorkflow(store, workflowId);
    const last = messages.filter((m) => m.type === 'snapshot').at(-1);
    expect(last?.type === 'snapshot' ? last.deadlines : null).toEqual([]);
    await store.close();
  }, 120000);
});
