import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually, freePort, type WireMessage } from './support.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let running: ChildProcess | undefined;

afterEach(() => {
  // never leave the script behind, whatever failed
  if (running?.pid && running.exitCode === null && running.signalCode === null) process.kill(-running.pid, 'SIGKILL');
  running = undefined;
});

describe('npm run inspect', () => {
  it('serves the live scenario on loopback: a ws client sees the dispute, the cancel order and the 48H deadline; Ctrl-C ends it with code 0 within 2 s', async () => {
    const port = await freePort();
    // its own process group, so that SIGINT reaches npm, the shell and the script as Ctrl-C would
    const child = spawn('npm', ['run', '--silent', 'inspect', '--', '--no-open', '--port', String(port)], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '' },
    });
    running = child;
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    const relay = await eventually(() => {
      const match = /WebSocket relay: (ws:\/\/\S+)/.exec(stdout);
      expect(match, `no relay URL yet; stdout: ${stdout}; stderr: ${stderr}`).not.toBeNull();
      return match![1]!;
    }, 20_000);
    expect(stdout).toContain(`Stately inspector: http://127.0.0.1:${port}`);
    expect(relay).toBe(`ws://127.0.0.1:${port}`);

    const client = new WebSocket(relay);
    const messages: WireMessage[] = [];
    client.on('message', (data) => messages.push(JSON.parse(String(data)) as WireMessage));
    const clientClosed = once(client, 'close');
    await once(client, 'open');

    // the accelerated 48H window (5 s) ends and the cancel order moves on
    await eventually(() => {
      const deadline = messages.find((m) => m.type === '@xstate.event' && m.event?.type.startsWith('xstate.after.interceptWindow'));
      expect(deadline, `events so far: ${messages.map((m) => m.event?.type ?? m.name).join(', ')}`).toBeDefined();
    }, 15_000);
    const actors = messages.filter((m) => m.type === '@xstate.actor').map((m) => m.name);
    expect(actors).toEqual(expect.arrayContaining(['order', 'dispute', 'cancellation']));
    expect(messages.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'logisticsFollowUp')).toBe(true);
    expect(stdout).toContain('deadline interceptWindow fired for dispute-1:intercept-48h');
    expect(stdout).toContain(
      'order-1 (MERCHANT) dispute=open cancellation=inFlight | dispute-1 awaitingCustomerConfirmation 待客户确认 | dispute-1:intercept-48h logisticsFollowUp 物流待跟进',
    );

    const interrupted = Date.now();
    process.kill(-child.pid!, 'SIGINT');
    const [code, signal] = (await Promise.race([
      once(child, 'exit'),
      new Promise((resolve) => setTimeout(() => resolve([undefined, 'still running after 2 s']), 2_000)),
    ])) as [number | null | undefined, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - interrupted).toBeLessThan(2_000);
    await clientClosed;
    expect(stdout).toContain('Stopped.');
    expect(stderr).toBe('');
  });
});
