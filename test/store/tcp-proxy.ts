/**
 * A loopback TCP proxy between a store and PostgreSQL, for fault tests: it drops, stalls and resets
 * connections, refuses new ones, or answers them as a server that is starting up, without touching the
 * shared server (other test files keep their database).
 *
 * It reads the frontend protocol (client to server) just enough to see message boundaries: the
 * untyped startup message, then `type byte + int32 length` messages. An interceptor sees each typed
 * message ('Q' simple query with its text, 'S' Sync ending an extended query, …) and may forward it,
 * hold it (the connection stalls there) or reset the connection before the server sees it.
 */
import net from 'node:net';

export type Verdict = 'forward' | 'hold' | 'reset';

export interface FrontendMessage {
  /** The proxy's number for the connection (1, 2, …). */
  connection: number;
  /** Message type: 'Q' simple query, 'P' parse, 'B' bind, 'E' execute, 'S' sync, 'X' terminate, … */
  type: string;
  /** The SQL of a 'Q' message. */
  text: string | null;
  /** The prepared statement a 'P' (parse) or 'B' (bind) message names ('' for the unnamed one). */
  statement: string | null;
}

export interface FaultProxy {
  readonly port: number;
  /** A connection string through the proxy. */
  readonly url: string;
  /** Connections currently open through the proxy. */
  readonly open: number;
  /** Decides the fate of each client message (default: forward). */
  intercept(decide: ((message: FrontendMessage) => Verdict) | null): void;
  /** Destroys one connection (RST to the client, close to the server). */
  reset(connection: number): void;
  /** Destroys every open connection, like a network reset. */
  resetAll(): void;
  /** Holds every byte in both directions, on open and new connections, until `resume()`. */
  stall(): void;
  /** Delivers everything held (held client messages go through the interceptor again) and forwards again. */
  resume(): void;
  /** The server went away: open connections are reset, new ones get ECONNREFUSED. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  /** While on, a new connection is answered FATAL 57P03 "the database system is starting up". */
  startingUp(on: boolean): void;
  close(): Promise<void>;
}

const STARTING_UP = (() => {
  const fields = Buffer.concat(
    [
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', '57P03'],
      ['M', 'the database system is starting up'],
    ].map(([code, value]) => Buffer.from(`${code}${value}\0`, 'utf8')),
  );
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'ascii');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
})();

export async function startFaultProxy(target: { host: string; port: number }, database: string): Promise<FaultProxy> {
  let decide: ((message: FrontendMessage) => Verdict) | null = null;
  let stalled = false;
  let refusingStartup = false;
  let nextId = 0;

  interface Link {
    id: number;
    client: net.Socket;
    server: net.Socket | null;
    /** Unparsed client bytes. */
    pending: Buffer;
    started: boolean;
    /** Client messages waiting (held, or stalled). */
    heldMessages: Array<{ message: FrontendMessage; bytes: Buffer }>;
    /** Server bytes waiting while stalled. */
    heldReplies: Buffer[];
    closed: boolean;
  }
  const links = new Map<number, Link>();

  function destroy(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    links.delete(link.id);
    link.client.resetAndDestroy();
    link.server?.destroy();
  }

  function deliver(link: Link, message: FrontendMessage, bytes: Buffer): void {
    if (link.closed) return;
    if (stalled || link.heldMessages.length > 0) {
      link.heldMessages.push({ message, bytes });
      return;
    }
    const verdict = decide?.(message) ?? 'forward';
    if (verdict === 'reset') {
      destroy(link);
      return;
    }
    if (verdict === 'hold') {
      link.heldMessages.push({ message, bytes });
      return;
    }
    link.server?.write(bytes);
  }

  function onClientData(link: Link, chunk: Buffer): void {
    link.pending = Buffer.concat([link.pending, chunk]);
    for (;;) {
      if (!link.started) {
        if (link.pending.length < 4) return;
        const length = link.pending.readInt32BE(0);
        if (link.pending.length < length) return;
        const startup = link.pending.subarray(0, length);
        link.pending = link.pending.subarray(length);
        link.started = true;
        if (refusingStartup) {
          link.client.end(STARTING_UP);
          link.closed = true;
          links.delete(link.id);
          return;
        }
        connectServer(link, startup);
        continue;
      }
      if (link.pending.length < 5) return;
      const length = link.pending.readInt32BE(1);
      if (link.pending.length < length + 1) return;
      const bytes = link.pending.subarray(0, length + 1);
      link.pending = link.pending.subarray(length + 1);
      const type = String.fromCharCode(bytes[0]!);
      const text = type === 'Q' ? bytes.subarray(5, bytes.length - 1).toString('utf8') : null;
      deliver(link, { connection: link.id, type, text, statement: statementOf(type, bytes) }, bytes);
    }
  }

  function connectServer(link: Link, startup: Buffer): void {
    const server = net.connect(target.port, target.host);
    link.server = server;
    server.on('data', (chunk: Buffer) => {
      if (stalled) link.heldReplies.push(chunk);
      else link.client.write(chunk);
    });
    server.on('error', () => destroy(link));
    server.on('close', () => {
      if (link.closed) return;
      link.closed = true;
      links.delete(link.id);
      link.client.end();
    });
    server.write(startup);
  }

  const listener = net.createServer((client) => {
    nextId += 1;
    const link: Link = {
      id: nextId,
      client,
      server: null,
      pending: Buffer.alloc(0),
      started: false,
      heldMessages: [],
      heldReplies: [],
      closed: false,
    };
    links.set(link.id, link);
    client.on('data', (chunk: Buffer) => onClientData(link, chunk));
    client.on('error', () => destroy(link));
    client.on('close', () => {
      if (link.closed) return;
      link.closed = true;
      links.delete(link.id);
      link.server?.end();
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, '127.0.0.1', () => {
        listener.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (listener.address() as net.AddressInfo).port;
  let listening = true;

  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    get open() {
      return links.size;
    },
    intercept(next) {
      decide = next;
    },
    reset(connection) {
      const link = links.get(connection);
      if (link) destroy(link);
    },
    resetAll() {
      for (const link of [...links.values()]) destroy(link);
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const link of [...links.values()]) {
        for (const chunk of link.heldReplies.splice(0)) link.client.write(chunk);
        const held = link.heldMessages.splice(0);
        for (const { message, bytes } of held) deliver(link, message, bytes);
      }
    },
    async refuse() {
      if (!listening) return;
      listening = false;
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const link of [...links.values()]) destroy(link);
      await closed;
    },
    async accept() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    startingUp(on) {
      refusingStartup = on;
    },
    async close() {
      const closed = listening ? new Promise<void>((resolve) => listener.close(() => resolve())) : Promise.resolve();
      listening = false;
      for (const link of [...links.values()]) destroy(link);
      await closed;
    },
  };
}

/** The statement name of a Parse (its first string) or Bind (its second, after the portal) message. */
function statementOf(type: string, bytes: Buffer): string | null {
  if (type !== 'P' && type !== 'B') return null;
  let start = 5;
  if (type === 'B') start = bytes.indexOf(0, start) + 1;
  const end = bytes.indexOf(0, start);
  return end < 0 ? null : bytes.subarray(start, end).toString('utf8');
}
