import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectWebSocketInspector, startInspectorServer } from '../../src/inspect.js';
import {
  CANCEL_ORDER_ID,
  eventually,
  expectNoMoreHandlesThan,
  freePort,
  playInterceptScenario,
  settledHandles,
  type WireMessage,
} from './support.js';

/** A plain `ws` client of the relay: it receives what inspector clients send. */
async function watch(url: string): Promise<{ socket: WebSocket; messages: WireMessage[]; closed: Promise<void> }> {
  const socket = new WebSocket(url);
  const messages: WireMessage[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as WireMessage));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, messages, closed };
}

const ROOT = new URL('../../', import.meta.url).pathname;

const externalIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

describe('the inspector server on loopback', () => {
  it('relays actor, event and snapshot messages of the order and its cancel order to a ws client, and leaves no handle open', async () => {
    const before = await settledHandles();
    const server = await startInspectorServer({ port: 0 });
    const watcher = await watch(server.wsUrl);
    const inspector = await connectWebSocketInspector(server.wsUrl);

    const workflow = playInterceptScenario(inspector);
    expect(workflow.getSnapshot().status).toBe('done');

    const messages = await eventually(() => {
      const refunded = watcher.messages.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'refunded');
      expect(refunded).toBe(true);
      return watcher.messages;
    });
    const actors = messages.filter((m) => m.type === '@xstate.actor');
    const order = actors.find((m) => m.name === 'order');
    const cancelOrder = actors.find((m) => m.name === 'cancellation');
    expect(order?.parentId).toBeUndefined();
    expect(JSON.parse(cancelOrder?.definition ?? '{}')).toMatchObject({ id: 'cancellation' });
    expect(cancelOrder?.snapshot).toMatchObject({ context: { cancellationId: CANCEL_ORDER_ID } });
    expect(cancelOrder?.parentId).toBe(order?.sessionId);
    expect(messages.filter((m) => m.type === '@xstate.event').map((m) => m.event?.type)).toEqual(
      expect.arrayContaining(['dispute.opened', 'merchant.planSubmitted', 'xstate.after.interceptWindow.cancellation.logisticsFollowUp']),
    );
    const cancelOrderValues = messages
      .filter((m) => m.type === '@xstate.snapshot' && m.sessionId === cancelOrder?.sessionId)
      .map((m) => m.snapshot?.value);
    expect(cancelOrderValues).toEqual(['logisticsFollowUp', { refunding: 'requesting' }, 'refunded']);

    workflow.stop();
    await inspector.close();
    await server.close();
    await watcher.closed;
    await eventually(() => expectNoMoreHandlesThan(before), 2_000);
  });

  it('binds 127.0.0.1 only, serves a page that embeds its relay, and refuses a port in use with a readable error', async () => {
    const server = await startInspectorServer({ port: 0 });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      const page = await fetch(server.url).then((response) => response.text());
      expect(page).toContain(`ws://127.0.0.1:${server.port}`);
      if (externalIPv4) {
        const refused = await new Promise<string>((resolve) => {
          const socket = connect(server.port, externalIPv4);
          socket.once('connect', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        });
        expect(refused).toBe('ECONNREFUSED');
      }
      await expect(startInspectorServer({ port: server.port })).rejects.toThrow(
        `the inspector server could not listen on 127.0.0.1:${server.port}: listen EADDRINUSE`,
      );
    } finally {
      await server.close();
    }
  });

  it('a client that cannot connect fails at once and does not keep the process alive (0.7 retries every 5 s forever)', async () => {
    const url = `ws://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/inspect/fixtures/connect-refused.ts', url], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // a pending retry would hold the process for 5 s and then start over
    const timeout = setTimeout(() => child.kill('SIGKILL'), 4_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    clearTimeout(timeout);
    expect(output.trim()).toBe(`could not connect to the inspector at ${url}: connect ECONNREFUSED ${url.slice('ws://'.length)}`);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('refuses a port outside 0–65535', async () => {
    await expect(startInspectorServer({ port: 70_000 })).rejects.toThrow('inspector port must be an integer 0–65535, got 70000');
  });
});
