/**
 * The live view in a real browser: a JD-delivered, shipped order on the 48H plan, hosted by
 * createOrderWorkflow on a SimulatedClock; the page must highlight the cancel order's status as it
 * moves and count the interceptWindow deadline down to zero, without any request leaving loopback.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { SimulatedClock } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowEffect } from '../../src/schemas/effects.js';
import { startStatechartView, type RunningStatechartView } from '../../src/view/index.js';
import { createOrderWorkflow, type OrderWorkflow } from '../../src/workflow.js';
import { chromiumPath, collectErrors, guardLoopback, launch } from './browser.js';
import { installTrails, readTrails, waitForStatus } from './page-trails.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;
const LOGISTICS = { role: 'system', id: 'jd-logistics' } as const;
const PAYMENTS = { role: 'system', id: 'payments' } as const;
const REPORTS = new URL('../../reports/view/', import.meta.url);
/** A loaded 2-core machine lays charts out slowly. */
const POLL = { timeout: 15_000 };

describe.skipIf(!chromiumPath)('live statechart view (Chromium)', () => {
  let browser: Browser;
  let view: RunningStatechartView;
  let workflow: OrderWorkflow | undefined;

  beforeAll(async () => {
    mkdirSync(REPORTS, { recursive: true });
    browser = await launch();
  });
  afterAll(async () => {
    workflow?.stop();
    await view?.stop();
    await browser?.close();
  });

  it('P3b: the cancel order passes 物流待跟进 → 通过并拦截 → 退款中 → 退款成功 and interceptWindow counts down to zero', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const now = () => clock.now();
    view = await startStatechartView({ now, title: 'JD order-1' });
    const effects: WorkflowEffect[] = [];
    workflow = createOrderWorkflow(
      { orderId: 'order-1', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'JD', shipped: true, at: T0 },
      { clock, inspect: view.inspect, onEffect: (effect) => effects.push(effect) },
    );
    const page: Page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const outside = await guardLoopback(page);
    const errors = collectErrors(page);
    await page.goto(view.url);
    await page.waitForSelector('article[data-machine-id="order"] svg.chart');
    await installTrails(page, 'interceptWindow');

    const send = (event: OrderEventInput) => workflow!.send({ at: now(), ...event });
    send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' });
    send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
    send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    await waitForStatus(page, '物流待跟进');
    const countdown = page.locator('#deadlines tr.pending[data-deadline="interceptWindow"] td.remaining');
    await expect.poll(() => countdown.textContent(), POLL).toBe('48:00:00');
    await page.screenshot({ path: new URL('live-1-follow-up.png', REPORTS).pathname, fullPage: true });

    clock.increment(48 * HOUR - 1_000);
    view.tickClock();
    await expect.poll(() => countdown.textContent(), POLL).toBe('0:00:01');
    clock.increment(1_000);
    view.tickClock();
    await waitForStatus(page, '通过并拦截');
    await expect
      .poll(() => page.locator('#deadlines tr.fired[data-deadline="interceptWindow"] td.remaining').first().textContent(), POLL)
      .toBe('0:00:00');
    await page.screenshot({ path: new URL('live-2-intercepting.png', REPORTS).pathname, fullPage: true });

    const interception = effects.find((effect) => effect.type === 'effect.interceptionRequested');
    expect(interception).toBeDefined();
    const cancellationId = (interception as { cancellationId: string }).cancellationId;
    send({ type: 'logistics.interceptSucceeded', by: LOGISTICS, cancellationId });
    await waitForStatus(page, '退款中');
    send({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId, paymentRef: 'pay-1' });
    await waitForStatus(page, '退款成功');
    await page.screenshot({ path: new URL('live-3-refunded.png', REPORTS).pathname, fullPage: true });

    const trails = await readTrails(page);
    expect(trails.status).toEqual(['物流待跟进', '通过并拦截', '退款中', '退款成功']);
    expect(trails.countdown[0]).toBe('48:00:00');
    expect(trails.countdown.at(-1)).toBe('0:00:00');
    const seconds = trails.countdown.map((text) => text.split(':').reduce((total, part) => total * 60 + Number(part), 0));
    expect(seconds).toEqual([...seconds].sort((a, b) => b - a));

    // the log names the events with both labels
    const refundedRow = page.locator('#event-log tr', { hasText: 'payment.refundSucceeded' }).filter({ hasText: 'Refund succeeded' });
    await expect.poll(() => refundedRow.count(), POLL).toBeGreaterThan(0);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  }, 90000);
});
