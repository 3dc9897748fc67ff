import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AnyStateMachine, InspectionEvent } from 'xstate';
import { stableSessionsByWorkflow } from '../inspect.js';
import { loadViewAssets, VIEW_SCRIPT, VIEW_STYLE } from './assets.js';
import { defaultDurations, defaultStateLabels } from './labels.js';
import type { DelayDurations, StateLabeler } from './chart.js';
import type { ViewMessage } from './protocol.js';
import { createViewRecorder, type ViewRecorder } from './recorder.js';
import { replayWorkflow, type ReplayStore } from './replay.js';

/** Options of {@link createStatechartView}. */
export interface StatechartViewOptions {
  /** Where the view lives in the host's URL space. Default '/'. */
  basePath?: string;
  /** Page title. */
  title?: string;
  /** The host's clock (epoch ms), for event times and deadline countdowns. Default `Date.now`. */
  now?: () => number;
  /** State labels (zh-CN/en). Default: this package's status labels (src/labels.ts). */
  labels?: StateLabeler;
  /** Configured durations of named delays. Default: the actor's `context.timers`, else this package's DEFAULT_TIMERS. */
  durations?: DelayDurations;
  /** A durable store whose workflows the replay page opens (SQLite, PostgreSQL or memory). */
  store?: ReplayStore;
  /** The root machine of the stored workflows. Default: this package's order machine. */
  machine?: AnyStateMachine;
  /** How often the clock is sent to open pages. Default 250 ms. */
  clockIntervalMs?: number;
  /**
   * Host names the view answers to (the request's Host header). Default: loopback names only, so a
   * page of another site cannot read the stream through a DNS name it points at 127.0.0.1.
   */
  allowedHosts?: readonly string[] | 'any';
}

/** The statechart view as a request handler for the host's HTTP server, with its `inspect` option. */
export interface StatechartView {
  /** Pass as `inspect` to `createActor`, `createOrderWorkflow` or `createWorkflowRuntime`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Pass as `inspectWorkflow` to `createWorkflowRuntime`: one stable session per workflow. */
  readonly inspectWorkflow: (workflowId: string) => (event: InspectionEvent) => void;
  readonly recorder: ViewRecorder;
  /**
   * Serves a request under `basePath`; returns false (and leaves the response alone) for any other
   * path, so a host can mount it next to its own routes: `(req, res) => view.handle(req, res) || next()`.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  /** Sends the clock to open pages now (after advancing a simulated clock). */
  tickClock(): void;
  /** Ends open event streams. */
  close(): void;
}

/** The view's server binds loopback only, unless a host is given. */
export const VIEW_HOST = '127.0.0.1';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The self-hosted statechart view: a page (script and style shipped in this package, nothing from
 * elsewhere) that draws every machine of the inspection stream and highlights its actors' states as
 * events arrive, and a replay page for a stored workflow's audit trail. Mount `handle` in a host's
 * server, or start one with `startStatechartView`.
 */
export function createStatechartView(options: StatechartViewOptions = {}): StatechartView {
  const base = normalizeBase(options.basePath ?? '/');
  const title = options.title ?? 'Statecharts';
  const labels = options.labels ?? defaultStateLabels;
  const durations = options.durations ?? defaultDurations;
  const recorder = createViewRecorder({ ...(options.now ? { now: options.now } : {}), labels, durations });
  const streams = new Set<ServerResponse>();
  const allowedHosts = options.allowedHosts === 'any' ? 'any' : new Set(options.allowedHosts ?? LOOPBACK_HOSTS);
  let clockTimer: ReturnType<typeof setInterval> | undefined;

  const send = (response: ServerResponse, message: ViewMessage) => {
    response.write(`data: ${JSON.stringify(message)}\n\n`);
  };
  const unsubscribe = recorder.subscribe((message) => {
    for (const response of streams) send(response, message);
  });

  const openStream = (request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    send(response, { type: 'hello', mode: 'live', title, now: recorder.now() });
    for (const message of recorder.backlog()) send(response, message);
    streams.add(response);
    clockTimer ??= setInterval(() => recorder.tickClock(), options.clockIntervalMs ?? 250);
    clockTimer.unref?.();
    request.once('close', () => {
      streams.delete(response);
      if (streams.size === 0 && clockTimer) {
        clearInterval(clockTimer);
        clockTimer = undefined;
      }
    });
  };

  const page = (mode: 'live' | 'replay', workflowId?: string) =>
    `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/${VIEW_STYLE}">
</head>
<body data-mode="${mode}"${workflowId ? ` data-workflow="${escapeHtml(workflowId)}"` : ''}>
<div id="app"></div>
<script type="module" src="assets/${VIEW_SCRIPT}"></script>
</body>
</html>
`;

  const handle = (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = new URL(request.url ?? '/', 'http://view.local');
    if (url.pathname !== base.slice(0, -1) && !url.pathname.startsWith(base)) return false;
    // DNS rebinding: a page from another origin must not read the stream through a hostname it controls
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    if (allowedHosts !== 'any' && !allowedHosts.has(host)) {
      text(response, 421, `this view does not answer to the host name ${host}`);
      return true;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      text(response, 405, 'method not allowed');
      return true;
    }
    if (url.pathname === base.slice(0, -1)) {
      response.writeHead(308, { location: base });
      response.end();
      return true;
    }
    const route = url.pathname.slice(base.length);
    if (route === '' || route === 'index.html') {
      html(response, page('live'));
    } else if (route === 'replay') {
      html(response, page('replay', url.searchParams.get('workflow') ?? undefined));
    } else if (route === 'events') {
      openStream(request, response);
    } else if (route === `assets/${VIEW_SCRIPT}` || route === `assets/${VIEW_STYLE}`) {
      loadViewAssets().then(
        (assets) => {
          const script = route.endsWith('.js');
          response.writeHead(200, {
            'content-type': script ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
            'cache-control': 'no-cache',
          });
          response.end(script ? assets.script : assets.style);
        },
        (error: Error) => text(response, 500, error.message),
      );
    } else if (route.startsWith('api/replay/')) {
      const workflowId = decodeURIComponent(route.slice('api/replay/'.length));
      if (!options.store) {
        json(response, 404, { error: 'no store: start the view with a store to replay workflows' });
      } else {
        replayWorkflow(options.store, workflowId, { labels, durations, ...(options.machine ? { machine: options.machine } : {}) }).then(
          (messages) => json(response, 200, messages),
          (error: Error & { code?: string }) => json(response, error.code === 'WORKFLOW_NOT_FOUND' ? 404 : 500, { error: error.message }),
        );
      }
    } else {
      text(response, 404, 'not found');
    }
    return true;
  };

  return {
    inspect: recorder.inspect,
    inspectWorkflow: stableSessionsByWorkflow(recorder.inspect),
    recorder,
    handle,
    tickClock: () => recorder.tickClock(),
    close() {
      unsubscribe();
      if (clockTimer) clearInterval(clockTimer);
      clockTimer = undefined;
      for (const response of streams) response.end();
      streams.clear();
    },
  };
}

/** Options of {@link startStatechartView}. */
export interface StartViewOptions extends StatechartViewOptions {
  /** 0 (default) for a free port. */
  port?: number;
  /** Default 127.0.0.1. Another address exposes every actor's context to that network: say so with `exposeBeyondLoopback`. */
  host?: string;
  exposeBeyondLoopback?: boolean;
}

/** A statechart view listening on its own loopback server. */
export interface RunningStatechartView extends StatechartView {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Closes the event streams and the server; resolves when the port is released. */
  stop(): Promise<void>;
}

/** `createStatechartView` on its own HTTP server, bound to 127.0.0.1 unless told otherwise. */
export async function startStatechartView(options: StartViewOptions = {}): Promise<RunningStatechartView> {
  const host = options.host ?? VIEW_HOST;
  if (!isLoopback(host) && !options.exposeBeyondLoopback) {
    throw new Error(`refusing to serve the statechart view on ${host}: pass exposeBeyondLoopback to show every context on that network`);
  }
  const { basePath: _ignored, ...rest } = options;
  const view = createStatechartView({
    ...rest,
    ...(isLoopback(host) ? {} : { allowedHosts: options.allowedHosts ?? 'any' }),
  });
  const { createServer } = await import('node:http');
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    if (!view.handle(request, response)) text(response, 404, 'not found');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    ...view,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    host,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        view.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function normalizeBase(path: string): string {
  const trimmed = `/${path.replace(/^\/+|\/+$/g, '')}/`;
  return trimmed === '//' ? '/' : trimmed;
}

function html(response: ServerResponse, body: string) {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(body);
}

function json(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

function text(response: ServerResponse, status: number, body: string) {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(body);
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
