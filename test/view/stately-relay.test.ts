/**
 * The Stately path keeps working: the relay page of `npm run inspect` loads in a real browser, its
 * WebSocket reaches the relay (bound to 127.0.0.1) whether `localhost` resolves to 127.0.0.1 or to ::1,
 * and the stream carries the machine definitions and the events. The page embeds the hosted Stately
 * inspector: that request, and only that one, leaves the machine (blocked here).
 */
import { SimulatedClock } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWebSocketInspector, startInspectorServer, type InspectorServer, type LiveInspector } from '../../src/inspect.js';
import { createOrderWorkflow } from '../../src/workflow.js';
import { chromiumPath, collectErrors, guardLoopback, launch } from './browser.js';

interface Frame {
  type: string;
  definition?: string;
  event?: { type: string };
}

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

describe.skipIf(!chromiumPath)('Stately relay page (Chromium)', () => {
  let server: InspectorServer;
  let client: LiveInspector;
  beforeAll(async () => {
    server = await startInspectorServer({ port: 0 });
    client = await connectWebSocketInspector(server.wsUrl);
    const clock = new SimulatedClock();
    clock.set(T0);
    const workflow = createOrderWorkflow(
      { orderId: 'order-1', merchantId: 'merchant-1', customerId: 'customer-1', deliveredBy: 'JD', shipped: true, at: T0 },
      { clock, inspect: (event) => client.inspect.next?.(event) },
    );
    workflow.send({ type: 'dispute.opened', at: T0, by: { role: 'customer', id: 'customer-1' }, disputeId: 'dispute-1' });
    workflow.send({ type: 'merchant.planSubmitted', at: T0, by: { role: 'merchant', id: 'merchant-1' }, plan: 'WAIT_48H_INTERCEPT' });
    workflow.stop();
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it.each([
    ['IPv4', 'MAP localhost 127.0.0.1'],
    ['IPv6', 'MAP localhost [::1]'],
  ])(
    'connects and streams definitions and events when localhost resolves to %s',
    async (_name, rule) => {
      const browser = await launch([`--host-resolver-rules=${rule}`]);
      try {
        const page = await browser.newPage();
        const outside = await guardLoopback(page);
        const errors = collectErrors(page);
        const frames: Frame[] = [];
        const socket = new Promise<{ url: string; error: string | null }>((resolve) => {
          page.on('websocket', (ws) => {
            ws.on('framereceived', ({ payload }) => frames.push(JSON.parse(String(payload)) as Frame));
            ws.on('socketerror', (error) => resolve({ url: ws.url(), error }));
            ws.waitForEvent('framereceived').then(
              () => resolve({ url: ws.url(), error: null }),
              (error: Error) => resolve({ url: ws.url(), error: error.message }),
            );
          });
        });
        await page.goto(server.url);
        const { url, error } = await socket;
        expect(error).toBeNull();
        expect(new URL(url).hostname).toBe('127.0.0.1');
        await expect
          .poll(() => frames.some((frame) => frame.type === '@xstate.event' && frame.event?.type === 'merchant.planSubmitted'), {
            timeout: 15_000,
          })
          .toBe(true);
        const definitions = frames
          .filter((frame) => frame.type === '@xstate.actor' && frame.definition)
          .map((frame) => JSON.parse(frame.definition!).id as string);
        expect(definitions).toEqual(expect.arrayContaining(['order', 'dispute']));
        // only the hosted inspector the relay page embeds; it was blocked
        expect(outside.map((address) => new URL(address).host)).toEqual(['stately.ai']);
        expect(errors.filter((error) => !error.includes('stately.ai') && !error.includes('ERR_BLOCKED_BY_CLIENT'))).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    60000,
  );
});
