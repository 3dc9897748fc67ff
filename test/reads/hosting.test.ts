import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxPayments, PAYMENT_SIGNATURE_HEADER, signPaymentWebhook, type SandboxPayments } from '../../src/runtime/index.js';
import type { RefundRequest } from '../../src/runtime/adapters.js';

/**
 * docs/hosting.md's service, run as it is written (its code block, with the package imports pointed at
 * the source) behind a real loopback HTTP server, and called as every party, as the wrong party and as
 * nobody. Its payment service is the sandbox behind HTTP, answering by signed webhooks.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const OUT = join(ROOT, 'test/reads/.generated');
const SESSION_SECRET = 'test-session-secret';
const WEBHOOK_SECRET = 'test-webhook-secret';

/** The example's block, runnable from test/reads/.generated/. */
function serviceSource(): string {
  const page = readFileSync(join(ROOT, 'docs/hosting.md'), 'utf8');
  const block = /^## The service\n[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(page)?.[1];
  if (!block) throw new Error('docs/hosting.md has no ```ts block under "## The service"');
  return block
    .replace(/from 'jd-dispute-statecharts\/runtime'/g, "from '../../../src/runtime/index.js'")
    .replace(/from 'jd-dispute-statecharts'/g, "from '../../../src/index.js'");
}

/** A session as the example signs it (its `sessionToken`). */
const token = (role: string, id: string, secret = SESSION_SECRET) => {
  const payload = Buffer.from(JSON.stringify({ role, id })).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
};
const SYSTEM = token('system', 'order-system');
const PLATFORM = token('platform', 'cs-1');
const M1 = token('merchant', 'm-1');
const M2 = token('merchant', 'm-2');
const C1 = token('customer', 'c-1');
const C2 = token('customer', 'c-2');

let service: ChildProcess;
let base = '';
let paymentsServer: Server;
let payments: SandboxPayments;

async function call(method: string, path: string, options: { session?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.session ? { authorization: `Bearer ${options.session}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { items?: Array<Record<string, unknown>> } };
}

beforeAll(async () => {
  // The payment provider: the sandbox behind HTTP, taking the request (202) and answering by webhook.
  payments = createSandboxPayments({ webhookSecret: WEBHOOK_SECRET });
  paymentsServer = createServer(async (request, response) => {
    let text = '';
    for await (const chunk of request) text += String(chunk);
    const body = JSON.parse(text) as Pick<RefundRequest, 'orderId' | 'cancellationId' | 'reason' | 'attempt'>;
    const idempotencyKey = String(request.headers['idempotency-key']);
    const refund = {
      ...body,
      at: 0,
      idempotencyKey,
      trigger: { kind: 'disputePlan', by: { role: 'merchant', id: 'm-1' }, at: 0 },
    } as RefundRequest;
    const outcome = await payments.refund(refund, { signal: new AbortController().signal });
    response.writeHead(outcome.status === 'accepted' ? 202 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(outcome));
  });
  await new Promise<void>((resolve) => paymentsServer.listen(0, '127.0.0.1', resolve));

  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, '.gitignore'), '*\n');
  const file = join(OUT, 'hosting-service.ts');
  writeFileSync(file, serviceSource());
  service = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      WORKFLOW_DB: ':memory:',
      SESSION_SECRET,
      PAYMENTS_WEBHOOK_SECRET: WEBHOOK_SECRET,
      PAYMENTS_URL: `http://127.0.0.1:${(paymentsServer.address() as AddressInfo).port}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  service.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  base = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    service.stdout!.on('data', (chunk) => {
      stdout += String(chunk);
      const listening = /order disputes on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (listening) resolve(listening[1]!);
    });
    service.once('exit', (code) => reject(new Error(`the example exited (${code}): ${stderr}`)));
  });

  // An order and a dispute waiting for the merchant, opened the way the example says.
  expect(
    (await call('POST', '/orders', { session: SYSTEM, body: { orderId: 'o-1', merchantId: 'm-1', customerId: 'c-1', deliveredBy: 'MERCHANT' } }))
      .status,
  ).toBe(200);
  expect(
    (
      await call('POST', '/orders/o-1/events', {
        session: C1,
        body: { type: 'dispute.opened', disputeId: 'd-1' },
        headers: { 'idempotency-key': 'k1' },
      })
    ).status,
  ).toBe(200);
}, 60_000);

afterAll(async () => {
  service?.kill('SIGTERM');
  await new Promise<void>((resolve) => paymentsServer?.close(() => resolve()));
});

const ROUTES: Array<[method: string, path: string, body?: unknown]> = [
  ['POST', '/orders', { orderId: 'o-9', merchantId: 'm-1', customerId: 'c-1', deliveredBy: 'MERCHANT' }],
  ['POST', '/orders/o-1/events', { type: 'merchant.planSubmitted', plan: 'DIRECT_REFUND' }],
  ['GET', '/orders/o-1'],
  ['GET', '/orders/o-1/actions'],
  ['GET', '/orders/o-1/audit'],
  ['GET', '/cancel-orders'],
  ['GET', '/disputes'],
  ['GET', '/disputes/counts'],
  ['GET', '/nowhere'],
];

describe('docs/hosting.md on a loopback server', () => {
  it('R1: every route refuses nobody (no session), a token signed with another key and a token whose caller was altered: 401', async () => {
    const [payload, mac] = M1.split('.') as [string, string];
    const altered = `${Buffer.from(JSON.stringify({ role: 'platform', id: 'm-1' })).toString('base64url')}.${mac}`;
    for (const [method, path, body] of ROUTES) {
      for (const session of [undefined, token('platform', 'cs-1', 'guessed'), altered, `${payload}.`, 'garbage']) {
        const answer = await call(method, path, { session, body });
        expect(answer.status, `${method} ${path} as ${session ?? 'nobody'}`).toBe(401);
        expect(answer.body).toEqual({ message: 'unauthenticated' });
      }
    }
    expect((await call('GET', '/disputes', { session: PLATFORM })).body.items).toHaveLength(1); // nothing changed
  });

  it('R1: only a system session opens a workflow; the merchant, the customer and the platform get 403', async () => {
    for (const session of [M1, C1, PLATFORM]) {
      const answer = await call('POST', '/orders', { session, body: ROUTES[0]![2] });
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ code: 'WRONG_ROLE' });
    }
    expect((await call('GET', '/orders/o-9', { session: PLATFORM })).status).toBe(404);
  });

  it("R1: every route as the wrong party is refused with 403: another merchant's or customer's order, another party's filter", async () => {
    const refused: Array<[string, string, string, unknown?]> = [
      [M2, 'GET', '/orders/o-1'],
      [C2, 'GET', '/orders/o-1'],
      [M2, 'GET', '/orders/o-1/actions'],
      [C2, 'GET', '/orders/o-1/actions'],
      [M2, 'GET', '/orders/o-1/audit'],
      [C2, 'GET', '/orders/o-1/audit'],
      [M2, 'POST', '/orders/o-1/events', { type: 'merchant.planSubmitted', plan: 'DIRECT_REFUND' }],
      [C2, 'POST', '/orders/o-1/events', { type: 'customer.disputeWithdrawn' }],
      [M2, 'GET', '/cancel-orders?merchantId=m-1'],
      [C2, 'GET', '/cancel-orders?customerId=c-1'],
      [M2, 'GET', '/disputes?merchantId=m-1'],
      [C2, 'GET', '/disputes?customerId=c-1'],
      [M2, 'GET', '/disputes/counts?merchantId=m-1'],
      [C2, 'GET', '/disputes/counts?customerId=c-1'],
    ];
    for (const [session, method, path, body] of refused) {
      const answer = await call(method, path, { session, body, headers: { 'idempotency-key': `wrong-${path}` } });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body).toMatchObject({ code: 'WRONG_ROLE' });
    }
    // Their own listings are answered, and hold nothing of m-1's or c-1's.
    expect((await call('GET', '/disputes', { session: M2 })).body).toEqual({ items: [], nextCursor: null });
    expect((await call('GET', '/disputes', { session: C2 })).body).toEqual({ items: [], nextCursor: null });
  });

  it("the merchant's queue and counts over HTTP, labelled; the customer's actions with their zh-CN labels", async () => {
    const queue = await call('GET', '/disputes?waitingOn=merchant', { session: M1 });
    expect(queue.status).toBe(200);
    expect(queue.body.items).toEqual([
      expect.objectContaining({
        orderId: 'o-1',
        status: 'awaitingMerchantChoice',
        statusLabel: { 'zh-CN': '待商家选择方案', en: "Awaiting the merchant's plan" },
        nextDeadline: expect.objectContaining({
          timer: 'merchantResponseWindow',
          label: { 'zh-CN': '商家处理时限', en: 'Merchant response window' },
        }),
      }),
    ]);
    const counts = await call('GET', '/disputes/counts', { session: M1 });
    expect(counts.body).toMatchObject({ merchantId: 'm-1', total: { count: 1 }, byStatus: { awaitingMerchantChoice: { count: 1 } } });
    const actions = await call('GET', '/orders/o-1/actions', { session: C1 });
    expect((actions.body as unknown as Array<{ label: { 'zh-CN': string } }>).map((action) => action.label['zh-CN'])).toEqual([
      '申请取消订单',
      '撤销纠纷单',
    ]);
  });

  it("payment webhooks: unsigned, signed with another key or altered after signing are refused (401) and record nothing; the provider's signed webhook records the refund", async () => {
    expect(
      (
        await call('POST', '/orders/o-1/events', {
          session: M1,
          body: { type: 'merchant.planSubmitted', plan: 'DIRECT_REFUND' },
          headers: { 'idempotency-key': 'k2' },
        })
      ).status,
    ).toBe(200);
    // The runtime's background loop calls the payment service, which takes the refund and answers later.
    let webhooks = payments.takeWebhooks();
    for (let waited = 0; webhooks.length === 0 && waited < 15_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      webhooks = payments.takeWebhooks();
    }
    const [webhook] = webhooks;
    expect(webhook).toBeDefined();
    const forged = JSON.stringify({ ...JSON.parse(webhook!.body), paymentRef: 'forged' });
    const refused: Array<[string, Record<string, string>]> = [
      [webhook!.body, {}],
      [webhook!.body, { [PAYMENT_SIGNATURE_HEADER]: signPaymentWebhook('guessed', webhook!.body) }],
      [forged, { [PAYMENT_SIGNATURE_HEADER]: webhook!.signature }],
      [webhook!.body, { [PAYMENT_SIGNATURE_HEADER]: webhook!.signature.toUpperCase() }],
    ];
    for (const [body, headers] of refused) {
      const answer = await call('POST', '/webhooks/payments', { body, headers });
      expect(answer.status).toBe(401);
    }
    const before = await call('GET', '/orders/o-1', { session: PLATFORM });
    expect((before.body.cancelOrders as Array<{ status: string }>)[0]?.status).toBe('refunding');

    const accepted = await call('POST', '/webhooks/payments', {
      body: webhook!.body,
      headers: { [PAYMENT_SIGNATURE_HEADER]: webhook!.signature },
    });
    expect(accepted.status).toBe(200);

    const after = await call('GET', '/orders/o-1', { session: PLATFORM });
    expect(after.body.cancelOrders).toEqual([
      expect.objectContaining({
        status: 'refunded',
        paymentRef: 'sandbox-pay-o-1/d-1:direct-refund/1',
        refundReason: 'DIRECT_REFUND_DISPUTE_PLAN',
      }),
    ]);
    // R1: the customer sees the refund, not the payment reference.
    const mine = await call('GET', '/orders/o-1', { session: C1 });
    expect(mine.body.cancelOrders).toEqual([expect.objectContaining({ status: 'refunded', paymentRef: null })]);
  }, 30_000);
});
