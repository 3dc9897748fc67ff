import type { AddressInfo, Socket } from 'node:net';
import type { ActorRefLike, AnyActorRef, InspectionEvent, Observer, Snapshot, Subscription } from 'xstate';

/**
 * Live view of workflows in the Stately inspector (`@statelyai/inspect`, an optional peer dependency).
 * Nothing here imports `@statelyai/inspect` at module load: inspectors come in as parameters, and the
 * two helpers that need the package (`startInspectorServer`, `connectWebSocketInspector`) load it when
 * they are called.
 */

type InspectFunction = (event: InspectionEvent) => void;

/**
 * Anything that takes XState inspection events: a function, an observer, or an inspector object with an
 * `inspect` member (what `createInspector`, `createWebSocketInspector` and `createBrowserInspector` return).
 */
export type InspectionSink = InspectFunction | Observer<InspectionEvent> | { readonly inspect: InspectFunction | Observer<InspectionEvent> };

/** What `attachInspector` reads of an actor: its session, its system and its snapshot (children included). */
export type InspectableActor = Pick<AnyActorRef, 'sessionId' | 'system' | 'getSnapshot'>;

/** An actor, or anything that exposes one as `actor` (an `OrderWorkflow`). */
export type InspectableTarget = InspectableActor | { readonly actor: InspectableActor };

/** The sink as a plain function, the form `createActor(…, { inspect })` and the hosts take. */
export function toInspect(sink: InspectionSink): InspectFunction {
  if (typeof sink === 'function') return sink;
  const target = 'inspect' in sink ? sink.inspect : sink;
  if (typeof target === 'function') return target;
  return (event) => target.next?.(event);
}

/**
 * Attaches an inspector to an actor system that is already running: the inspector first hears of every
 * live actor (`@xstate.actor` and its current snapshot), then receives the system's inspection events
 * until the subscription is ended. Prefer `createOrderWorkflow(input, { inspect })` for a new workflow.
 */
export function attachInspector(target: InspectableTarget, sink: InspectionSink): Subscription {
  const actor: InspectableActor = 'actor' in target ? target.actor : target;
  const inspect = toInspect(sink);
  const rootId = rootSessionOf(actor as InspectableActor & TreeFields);
  // XState's own refs underneath: the narrowed type only keeps `send` from the caller
  for (const ref of liveActors(actor) as AnyActorRef[]) {
    inspect({ type: '@xstate.actor', actorRef: ref, rootId });
    inspect({ type: '@xstate.snapshot', actorRef: ref, rootId, snapshot: ref.getSnapshot(), event: { type: 'xstate.init' } });
  }
  return actor.system.inspect(inspect);
}

/** The session id the inspector sees for an actor of a durable workflow: `<workflowId>` or `<workflowId>/<childId>`. */
export function stableSessionId(workflowId: string, actorPath: readonly string[]): string {
  return [workflowId, ...actorPath].join('/');
}

/**
 * What the wrapper reads of an inspected actor, all public: its `id` (its key in the parent's
 * `snapshot.children`), and the `options` it was created with (`parent`, and `snapshot` when it was
 * restored from a persisted one).
 */
interface TreeFields {
  id?: string;
  options?: { parent?: TreeRef; snapshot?: unknown };
}
type TreeRef = ActorRefLike & TreeFields;

/** The actor's parent, from the public `options` it was created with. */
const parentOf = (ref: TreeRef): TreeRef | undefined => ref.options?.parent;

/** The actor's ids from the root: [] for the root, `['cancellation']` for the order's cancel order. */
function pathOf(ref: TreeRef): string[] {
  const parent = parentOf(ref);
  return parent ? [...pathOf(parent), ref.id ?? ref.sessionId] : [];
}

/** One actor behind a stable session: a restore continues it, a new actor under the same id starts another. */
interface Incarnation {
  first?: Snapshot<unknown>;
  latest?: Snapshot<unknown>;
}

/**
 * Wraps an inspector for a workflow hosted by the durable runtime, which restores a fresh actor system
 * (new XState session ids) for every command and stops it afterwards. The inspector sees one stable
 * session per actor instead: the order is `<workflowId>`, a child is `<workflowId>/<childId>`.
 *
 * - An actor restored from a persisted snapshot continues its session: its `@xstate.actor`, its
 *   `xstate.init` event and snapshot are dropped once the session is announced (a restore is not a
 *   transition).
 * - An actor started afresh is a new actor and is announced, also under a session announced before:
 *   the order invokes its children under fixed ids, so a second cancel order (after a rejected one)
 *   reappears as `<workflowId>/cancellation`, announced anew with its own first state.
 * - The host stopping the restored system after each command (`xstate.stop`) is dropped too.
 * - Every other event passes with its actor refs, parent and root id rewritten to the stable ids.
 *
 * Keep one wrapper per workflow for the life of the process (it remembers what it has announced).
 */
export function stableSessions(sink: InspectionSink, workflowId: string): InspectFunction {
  const inspect = toInspect(sink);
  const announced = new Map<string, Incarnation>();
  /** Restored actors whose session was announced before: their start is not shown. */
  const restored = new WeakSet<object>();
  const incarnations = new WeakMap<object, Incarnation>();
  const views = new WeakMap<object, TreeRef>();

  const incarnationOf = (ref: TreeRef, sessionId: string): Incarnation => {
    let incarnation = incarnations.get(ref);
    if (!incarnation) {
      incarnation = announced.get(sessionId) ?? {};
      incarnations.set(ref, incarnation);
    }
    return incarnation;
  };

  const viewOf = (ref: TreeRef, snapshotOf: () => Snapshot<unknown> | undefined): TreeRef => {
    const path = pathOf(ref);
    const sessionId = stableSessionId(workflowId, path);
    const parent = parentOf(ref);
    return new Proxy(ref, {
      get(target, key) {
        if (key === 'sessionId') return sessionId;
        if (key === 'id' && path.length === 0) return workflowId;
        // @statelyai/inspect and the statechart view read an actor's parent from `_parent`: the view answers it
        if (key === '_parent') return parent ? stable(parent) : undefined;
        // the restored system is stopped by the time a deferred inspector reads it
        if (key === 'getSnapshot') return () => snapshotOf() ?? target.getSnapshot();
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  const stable = (ref: TreeRef): TreeRef => {
    let view = views.get(ref);
    if (!view) {
      const incarnation = incarnationOf(ref, stableSessionId(workflowId, pathOf(ref)));
      view = viewOf(ref, () => incarnation.latest);
      views.set(ref, view);
    }
    return view;
  };

  return (event) => {
    const ref: TreeRef = event.actorRef;
    const sessionId = stableSessionId(workflowId, pathOf(ref));
    if (event.type === '@xstate.actor') {
      if (ref.options?.snapshot !== undefined && announced.has(sessionId)) {
        restored.add(ref);
        incarnationOf(ref, sessionId);
        return;
      }
      const incarnation: Incarnation = {};
      announced.set(sessionId, incarnation);
      incarnations.set(ref, incarnation);
      // announce with the actor's first snapshot: XState registers an actor before it has one
      inspect({ ...event, rootId: workflowId, actorRef: viewOf(ref, () => incarnation.first ?? incarnation.latest) });
      return;
    }
    if ('event' in event) {
      if (event.event.type === 'xstate.stop') return;
      if (event.event.type === 'xstate.init' && restored.has(ref)) return;
    }
    if (event.type === '@xstate.snapshot') {
      const incarnation = incarnationOf(ref, sessionId);
      incarnation.first ??= event.snapshot;
      incarnation.latest = event.snapshot;
    }
    if (event.type === '@xstate.event') {
      const source: TreeRef | undefined = event.sourceRef;
      inspect({ ...event, rootId: workflowId, actorRef: stable(ref), sourceRef: source ? stable(source) : undefined });
      return;
    }
    inspect({ ...event, rootId: workflowId, actorRef: stable(ref) });
  };
}

/**
 * `stableSessions` for a host that serves many workflows through one `inspect` option: the wrapper of
 * each workflow is created on first use and kept.
 */
export function stableSessionsByWorkflow(sink: InspectionSink): (workflowId: string) => InspectFunction {
  const wrappers = new Map<string, InspectFunction>();
  return (workflowId) => {
    let wrapper = wrappers.get(workflowId);
    if (!wrapper) {
      wrapper = stableSessions(sink, workflowId);
      wrappers.set(workflowId, wrapper);
    }
    return wrapper;
  };
}

function rootSessionOf(actor: { sessionId: string } & TreeFields): string {
  const parent = actor.options?.parent;
  return parent ? rootSessionOf(parent) : actor.sessionId;
}

/** The actor and its live descendants, parents first. */
function liveActors(actor: InspectableActor): InspectableActor[] {
  const snapshot: unknown = actor.getSnapshot();
  const children = isRecord(snapshot) && isRecord(snapshot.children) ? Object.values(snapshot.children) : [];
  return [actor, ...children.filter(isActorRef).flatMap(liveActors)];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isActorRef = (value: unknown): value is AnyActorRef =>
  isRecord(value) && typeof value.sessionId === 'string' && typeof value.getSnapshot === 'function';

// ---------------------------------------------------------------------------------------------------
// A local inspector server and its WebSocket client (they load `@statelyai/inspect` when called)

/** The inspector server binds loopback only. */
export const INSPECTOR_HOST = '127.0.0.1';

/** Options of the local inspector relay server. */
export interface InspectorServerOptions {
  /** 1–65535, or 0 for a free port. Default 8080. */
  port?: number;
  /** The Stately inspector page the server embeds (loaded by the browser from the internet). */
  inspectorUrl?: string;
}

/** A running local inspector relay: where it listens, and how to stop it. */
export interface InspectorServer {
  readonly host: typeof INSPECTOR_HOST;
  readonly port: number;
  /** The page to open in a browser. */
  readonly url: string;
  /** Where an inspector client connects (`connectWebSocketInspector`). */
  readonly wsUrl: string;
  /** Stops the server and disconnects every connected client; resolves when the port is released. */
  close(): Promise<void>;
}

/**
 * Starts `createInspectorServer` from `@statelyai/inspect/server`, bound to 127.0.0.1 only, never opening
 * a browser. That server listens on every interface and accepts no host option, takes no error handler
 * and keeps its clients when stopped; so the HTTP server it creates is captured while it is created, its
 * `listen` is pinned to 127.0.0.1, its errors reject this promise, and `close()` ends its connections.
 * The bound address is checked: anything but loopback is closed again and refused.
 */
export async function startInspectorServer(options: InspectorServerOptions = {}): Promise<InspectorServer> {
  const requested = options.port ?? 8080;
  if (!Number.isInteger(requested) || requested < 0 || requested > 65_535) {
    throw new RangeError(`inspector port must be an integer 0–65535, got ${requested}`);
  }
  // The page the server serves embeds its port: pick a concrete one first.
  const port = requested === 0 ? await freeLoopbackPort() : requested;
  const { default: http } = await import('node:http');
  const { createInspectorServer } = await import('@statelyai/inspect/server');

  const sockets = new Set<Socket>();
  let captured: import('node:http').Server | undefined;
  let failed: (error: Error) => void = () => {};
  const createServer = http.createServer;
  http.createServer = ((...args: Parameters<typeof createServer>) => {
    const listener = args.find((arg): arg is import('node:http').RequestListener => typeof arg === 'function');
    // The relay page connects to ws://localhost:<port>: where localhost resolves to ::1 first, that
    // misses a server bound to 127.0.0.1. Point the page at the address the server is bound to.
    const pinned: import('node:http').RequestListener = (request, response) => {
      const end = response.end.bind(response) as (...rest: unknown[]) => typeof response;
      response.end = ((chunk?: unknown, ...rest: unknown[]) =>
        end(
          typeof chunk === 'string' ? chunk.replaceAll(`ws://localhost:${port}`, `ws://${INSPECTOR_HOST}:${port}`) : chunk,
          ...rest,
        )) as typeof response.end;
      listener?.(request, response);
    };
    const server = createServer(...(args.map((arg) => (arg === listener ? pinned : arg)) as Parameters<typeof createServer>));
    captured = server;
    const listen = server.listen.bind(server);
    server.listen = ((listenPort: number, callback?: () => void) =>
      listen({ port: listenPort, host: INSPECTOR_HOST }, callback)) as typeof server.listen;
    // ws re-emits server errors on its WebSocketServer, which has no listener: route them here instead
    const emit = server.emit;
    server.emit = ((name: string | symbol, ...args: unknown[]): boolean => {
      if (name !== 'error') return Reflect.apply(emit, server, [name, ...args]) as boolean;
      failed(args[0] instanceof Error ? args[0] : new Error(String(args[0])));
      return true;
    }) as typeof server.emit;
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return server;
  }) as typeof http.createServer;
  let relay: { stop(): void };
  try {
    relay = createInspectorServer({ port, autoOpen: false, ...(options.inspectorUrl ? { url: options.inspectorUrl } : {}) });
  } finally {
    http.createServer = createServer;
  }
  const server = captured;
  if (!server) {
    relay.stop();
    throw new Error('@statelyai/inspect/server did not create its server through node:http; cannot bind it to 127.0.0.1');
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      if (server.listening) server.once('close', () => resolve());
      relay.stop();
      for (const socket of sockets) socket.destroy();
      if (!server.listening) resolve();
    }));

  await new Promise<void>((resolve, reject) => {
    failed = reject;
    server.once('listening', () => resolve());
  }).catch(async (error: Error) => {
    await close();
    throw new Error(`the inspector server could not listen on ${INSPECTOR_HOST}:${port}: ${error.message}`, { cause: error });
  });
  failed = () => {};
  const address = server.address() as AddressInfo | null;
  if (address?.address !== INSPECTOR_HOST) {
    await close();
    throw new Error(`the inspector server bound ${address?.address ?? 'nothing'}, not ${INSPECTOR_HOST}; refusing to serve`);
  }
  return {
    host: INSPECTOR_HOST,
    port,
    url: `http://${INSPECTOR_HOST}:${port}`,
    wsUrl: `ws://${INSPECTOR_HOST}:${port}`,
    close,
  };
}

/** A connected WebSocket inspector client. */
export interface LiveInspector {
  /** Pass this as `inspect` (or through `stableSessions`). */
  readonly inspect: Observer<InspectionEvent>;
  /** Sends what is pending, then closes the connection; resolves when it is closed. */
  close(): Promise<void>;
}

/** Options for connecting to a running inspector server. */
export interface ConnectOptions {
  /** How long to wait for the connection. Default 5000 ms. */
  timeoutMs?: number;
}

/** The parts of the `ws` socket inside `@statelyai/inspect`'s WebSocket adapter that the client needs. */
interface AdapterSocket {
  readyState: number;
  onerror: unknown;
  once(event: 'open' | 'error' | 'close', listener: (arg?: unknown) => void): unknown;
  close(): void;
  terminate(): void;
}

const isAdapterSocket = (value: unknown): value is AdapterSocket =>
  isRecord(value) && typeof value.readyState === 'number' && typeof value.once === 'function' && typeof value.terminate === 'function';

const OPEN = 1;
const CLOSED = 3;

/**
 * `createWebSocketInspector({ url, autoStart: false })`, started now and resolved once connected. Its
 * adapter retries a failed connection every 5 s forever, even after `stop()`, which keeps a process
 * alive: the retry is switched off, and a connection that fails or times out rejects instead.
 */
export async function connectWebSocketInspector(url: string, options: ConnectOptions = {}): Promise<LiveInspector> {
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({ url, autoStart: false });
  inspector.start();
  const socket: unknown = Reflect.get(inspector.adapter, 'ws');
  if (!isAdapterSocket(socket)) {
    inspector.stop();
    throw new Error('unexpected @statelyai/inspect WebSocket adapter (0.7 expected)');
  }
  // a listener stays: ws throws an 'error' event nobody listens to
  socket.onerror = () => {};
  const timeoutMs = options.timeoutMs ?? 5_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', (error) => reject(error instanceof Error ? error : new Error(String(error))));
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
  } catch (error) {
    socket.terminate();
    throw new Error(`could not connect to the inspector at ${url}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return {
    inspect: inspector.inspect,
    close: async () => {
      // the inspector converts and sends events one macrotask after XState reports them
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (socket.readyState === CLOSED) return;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const force = setTimeout(() => socket.terminate(), 1_000);
      if (socket.readyState === OPEN) inspector.stop();
      else socket.terminate();
      await closed;
      clearTimeout(force);
    },
  };
}

async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, INSPECTOR_HOST, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
