/** The view's HTTP surface without a browser: loopback only, mountable under a path, replay API. */
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { createStatechartView, replayWorkflow, startStatechartView, type ViewMessage } from '../../src/view/index.js';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;

describe('statechart view server', () => {
  it('binds 127.0.0.1 and refuses another address unless told that every context shows there', async () => {
    const view = await startStatechartView();
    expect(view.host).toBe('127.0.0.1');
    expect(view.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await view.stop();
    await expect(startStatechartView({ host: '0.0.0.0' })).rejects.toThrow(/exposeBeyondLoopback/);
  });

  it('answers loopback host names only (DNS rebinding)', async () => {
    const view = await startStatechartView();
    try {
      const page = await fetch(view.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Content-Security-Policy" content="default-src \'self\'');
      // fetch cannot set Host: a raw request, as a browser sends it for a rebound name
      const rebound = await new Promise<number>((resolve, reject) => {
        request(view.url, { headers: { host: `attacker.example:${view.port}` } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(rebound).toBe(421);
    } finally {
      await view.stop();
    }
  });

  it('mounts under a base path next to the host routes, and streams the backlog to a late client', async () => {
    const view = createStatechartView({ basePath: '/statecharts' });
    const server = createServer((req, res) => {
      if (view.handle(req, res)) return;
      res.writeHead(200).end('host route');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/orders`)).text()).toBe('host route');
      const redirect = await fetch(`${base}/statecharts`, { redirect: 'manual' });
      expect([redirect.status, redirect.headers.get('location')]).toEqual([308, '/statecharts/']);
      expect((await fetch(`${base}/statecharts/assets/view.css`)).headers.get('content-type')).toMatch(/text\/css/);
      const missing = await fetch(`${base}/statecharts/api/replay/order-1`);
      expect(missing.status).toBe(404);

      const controller = new AbortController();
      const stream = await fetch(`${base}/statecharts/events`, { signal: controller.signal });
      const reader = stream.body!.getReader();
      const { value } = await reader.read();
      expect(JSON.parse(new TextDecoder().decode(value).split('\n')[0]!.slice('data: '.length))).toMatchObject({ type: 'hello', mode: 'live' });
      controller.abort();
    } finally {
      view.close();
      server.close();
    }
  });
});

/** The 48H plan on the durable runtime over `store`, then its replay. */
async function replayOfThePlan(store: WorkflowStore): Promise<void> {
  let time = T0;
  await store.migrate();
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => time },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
  });
  try {
    const { workflowId } = await runtime.openOrder({
      input: { orderId: 'order-9', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'JD', shipped: true },
    });
    let n = 0;
    for (const event of [
      { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-9' },
      { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' },
    ] satisfies OrderEventInput[]) {
      await runtime.dispatch({ workflowId, commandId: `c${(n += 1)}`, event });
      time += 60_000;
    }
    const planAt = T0 + 60_000;
    time += 48 * HOUR;
    for (let round = 0; round < 5; round += 1) await runtime.tick();

    const messages = await replayWorkflow(store, workflowId);
    const audit = await store.listAudit(workflowId);
    const steps = messages.filter((m): m is Extract<ViewMessage, { type: 'step' }> => m.type === 'step');
    expect(steps.map((s) => s.seq)).toEqual([null, ...audit.map((row) => row.seq)]);
    const snapshots = messages.filter((m): m is Extract<ViewMessage, { type: 'snapshot' }> => m.type === 'snapshot');
    const scheduled = snapshots.flatMap((s) => s.deadlines).find((d) => d.delay === 'interceptWindow');
    expect(scheduled).toMatchObject({ dueAt: planAt + 48 * HOUR, ms: 48 * HOUR, stateId: 'cancellation.logisticsFollowUp' });
    const fired = snapshots.flatMap((s) => s.fired).find((d) => d.delay === 'interceptWindow');
    expect(fired).toMatchObject({ dueAt: planAt + 48 * HOUR, firedAt: planAt + 48 * HOUR });
    const cancellation = snapshots.filter((s) => s.sessionId.endsWith('/cancellation')).map((s) => JSON.stringify(s.value));
    expect(cancellation.at(-1)).toBe(JSON.stringify('refunded'));
  } finally {
    await runtime.close();
  }
}

describe('replayWorkflow', () => {
  it('P3b from a store: one step per audit row, interceptWindow due 48H after the plan and fired at that time', async () => {
    await replayOfThePlan(createMemoryStore());
  });
});

if (!pgUrl && !requirePg) console.warn('⚠ skipping the PostgreSQL replay test: no PostgreSQL (set JD_DISPUTE_PG_URL)');

describe.skipIf(!pgUrl && !requirePg)('replayWorkflow on PostgreSQL', () => {
  it('P3b from PostgreSQL: the same steps and deadlines', async () => {
    const { schema, drop } = await freshSchema();
    try {
      await replayOfThePlan(createPostgresStore({ connectionString: pgUrl!, schema }));
    } finally {
      await drop();
    }
  });
});
