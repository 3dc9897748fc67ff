/**
 * `npm run docs:view-screenshots`: the README's pictures of the statechart view, taken in headless
 * Chromium (Debian's, or JD_DISPUTE_CHROMIUM): the live page mid-way through the 48H plan, the replay
 * page of the same plan from a SQLite file, and the coverage page of the dispute machine. The labels
 * need a Chinese font (`apt-get install fonts-wqy-microhei`, or any Noto CJK).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { SimulatedClock } from 'xstate';
import { computeCoverage, generatePaths, replayOptionsOf, replayPath } from '../src/coverage/index.js';
import { createSandboxLogistics, createSandboxPayments, createSqliteStore, createWorkflowRuntime } from '../src/runtime/index.js';
import { renderCoverageHtml, startStatechartView } from '../src/view/index.js';
import { createOrderWorkflow } from '../src/workflow.js';
import { MODELS } from '../test/paths/models.js';
import type { OrderEventInput } from '../src/schemas/events.js';

const root = new URL('..', import.meta.url).pathname;
const IMAGES = `${root}docs/images/`;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;
const VIEWPORT = { width: 1920, height: 1200 };

mkdirSync(IMAGES, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.JD_DISPUTE_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const scratch = mkdtempSync(join(tmpdir(), 'view-screenshots-'));

try {
  // live: the 48H window has run for 30 hours
  const clock = new SimulatedClock();
  clock.set(T0);
  const live = await startStatechartView({ now: () => clock.now(), title: 'order-1 · live' });
  const workflow = createOrderWorkflow(
    { orderId: 'order-1', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'JD', shipped: true, at: T0 },
    { clock, inspect: live.inspect },
  );
  workflow.send({ type: 'dispute.opened', at: T0, by: CUSTOMER, disputeId: 'dispute-1' });
  workflow.send({ type: 'merchant.planSubmitted', at: T0, by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
  workflow.send({ type: 'customer.settlementConfirmed', at: T0, by: CUSTOMER });
  clock.increment(30 * HOUR);
  const page = await browser.newPage({ viewport: VIEWPORT });
  await page.goto(live.url);
  await page.waitForSelector('article[data-machine-id="cancellation"] svg.chart');
  await page.click('article[data-machine-id="cancellation"] h2');
  await page.waitForFunction(() => document.querySelector('#deadlines td.remaining')?.textContent === '18:00:00');
  await page.evaluate(() => {
    document.body.classList.add('fit-charts');
    document.querySelector('article[data-machine-id="cancellation"]')?.scrollIntoView();
    window.scrollBy(0, -50);
  });
  await page.screenshot({ path: `${IMAGES}view-live.png` });
  workflow.stop();
  await live.stop();

  // replay: the same plan on the durable runtime, stored in SQLite, at the step the deadline fired
  const filename = join(scratch, 'workflows.db');
  let time = T0;
  const store = createSqliteStore({ filename });
  await store.migrate();
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => time },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
  });
  const { workflowId } = await runtime.openOrder({
    input: { orderId: 'order-7', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'JD', shipped: true },
  });
  let n = 0;
  for (const event of [
    { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-7' },
    { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' },
    { type: 'customer.settlementConfirmed', by: CUSTOMER },
  ] satisfies OrderEventInput[]) {
    await runtime.dispatch({ workflowId, commandId: `c${(n += 1)}`, event });
    time += 60_000;
  }
  time += 48 * HOUR;
  for (let round = 0; round < 5; round += 1) {
    await runtime.tick();
    time += 1_000;
  }
  await runtime.close();
  const replay = await startStatechartView({ store: createSqliteStore({ filename }), title: 'order-7 · replay' });
  await page.goto(`${replay.url}replay?workflow=${workflowId}`);
  await page.waitForSelector('#step-slider');
  const fired = await page.evaluate(async () => {
    const max = Number(document.querySelector<HTMLInputElement>('#step-slider')!.max);
    return max;
  });
  for (let step = 1; step <= fired; step += 1) {
    await page.click('#step-next');
    if (await page.locator('#deadlines tr.fired').count()) break;
  }
  await page.waitForFunction(
    () => document.querySelectorAll('article.actor svg.chart').length === document.querySelectorAll('article.actor').length,
  );
  await page.evaluate(() => {
    document.body.classList.add('fit-charts');
    document.querySelector('article[data-machine-id="cancellation"]')?.scrollIntoView();
    window.scrollBy(0, -50);
  });
  await page.screenshot({ path: `${IMAGES}view-replay.png` });
  await replay.stop();

  // coverage: the dispute machine's generated paths
  const { machine, options } = MODELS.dispute;
  const pathSet = generatePaths(machine, options as never);
  const replays = pathSet.paths.map((path) => replayPath(machine, path, replayOptionsOf(options as never)));
  const html = join(scratch, 'coverage.html');
  writeFileSync(
    html,
    await renderCoverageHtml([{ coverage: computeCoverage(pathSet, replays), pathSet }], { title: 'Path coverage · dispute' }),
  );
  await page.goto(`file://${html}`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator('g.transition.kind-after').first().click();
  await page.screenshot({ path: `${IMAGES}view-coverage.png` });
  console.log('docs/images/view-live.png, view-replay.png, view-coverage.png');
} finally {
  await browser.close();
  rmSync(scratch, { recursive: true, force: true });
}
