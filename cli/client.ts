/**
 * The typed client over protocol/: `call(route, req)` for every route kind, the same error on
 * both sides (SbxError.fromBody). Talks to sbxd over its unix socket ($SBX_ROOT/sbx.sock) or, with
 * SBX_HOST=http://host:port and SBX_TOKEN, over TCP. Used by the CLI, the benchmarks and tests.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { request, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type WebSocket from 'ws';
import {
  SbxError, fillPath, type Channel, type ProgressEvent, type ProgressLine, type Route, type RouteReq, type RouteRes,
} from '../protocol/index.js';
import { SBXD_ENV, SBXD_NODE_FLAGS, daemonMain, nodeBin } from './runtime.js';

export interface ClientOptions {
  /** Unix socket path; default $SBX_ROOT/sbx.sock. */
  socket?: string;
  /** TCP base URL instead of the socket. */
  host?: string;
  token?: string;
  /** Start sbxd in the background when nothing answers on the socket (CLI default). */
  autostart?: boolean;
  root?: string;
}

let wsClass: typeof WebSocket | undefined;

/**
 * The ws WebSocket class, loaded on first use (~20 ms), so only commands that open a channel pay
 * for it; they may call this early to load it while other work is in flight. Through require:
 * an ESM `import 'ws'` costs ~50 ms more CPU (Node scans each of ws's CommonJS files for
 * named exports).
 */
export function loadWebSocket(): typeof WebSocket {
  return wsClass ??= createRequire(import.meta.url)('ws') as typeof WebSocket;
}

/**
 * A peer (a proxy, a cut link) that ends its side of the connection without the closing
 * handshake has ended the connection (RFC 6455 §7.1.5: 1006). ws then half-closes ours only once
 * everything queued for the peer was written, and a peer that no longer reads never takes it:
 * no 'close' would ever come, and an attachment sending stdin would hang instead of resuming.
 * So with bytes still queued we drop the socket at once (the stream client resends whatever
 * the server did not acknowledge). An orderly close is untouched: by the time the server ends
 * its side it has read our close frame, so nothing is queued.
 */
function dropWhenPeerEnds(ws: WebSocket): void {
  let socket: Socket | undefined;
  ws.once('upgrade', (res: IncomingMessage) => { socket = res.socket; });
  // after 'open': ws's own 'end' listener (set up with the socket) runs first
  ws.once('open', () => socket?.once('end', () => { if (socket!.writableLength > 0) ws.terminate(); }));
}

export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.SBX_ROOT && env.SBX_ROOT.length > 0 ? env.SBX_ROOT : '/var/lib/sbx';
}

export class Client {
  readonly socket: string;
  private started = false;

  constructor(private readonly opts: ClientOptions = {}) {
    const root = opts.root ?? defaultRoot();
    this.socket = opts.socket ?? process.env.SBX_SOCKET ?? join(root, 'sbx.sock');
    if (opts.host === undefined && process.env.SBX_HOST) this.opts.host = process.env.SBX_HOST;
    if (opts.token === undefined && process.env.SBX_TOKEN) this.opts.token = process.env.SBX_TOKEN;
  }

  /** On this machine's unix socket (not TCP): sbxd can open this process's own terminal. */
  get local(): boolean { return !this.opts.host; }

  /** JSON routes. */
  async call<R extends Route<any, any>>(route: R, req?: RouteReq<R>): Promise<RouteRes<R>> {
    const res = await this.send(route, req as Record<string, unknown> | undefined);
    const body = await readAll(res);
    if (res.statusCode === 204 || body.length === 0) return undefined as RouteRes<R>;
    return JSON.parse(body.toString('utf8')) as RouteRes<R>;
  }

  /** 'upload' and 'upload-progress' routes: stream `body` as the request body. */
  async upload<R extends Route<any, any>>(route: R, req: RouteReq<R>, body: Readable | Buffer,
    onEvent?: (e: ProgressEvent) => void): Promise<RouteRes<R>> {
    const res = await this.send(route, req as Record<string, unknown>, body);
    return this.finish<R>(res, onEvent);
  }

  /** 'download' routes: the response body. */
  async download<R extends Route<any, any>>(route: R, req: RouteReq<R>): Promise<IncomingMessage> {
    return this.send(route, req as Record<string, unknown>);
  }

  /** 'progress' routes: events as they come, then the result. */
  async progress<R extends Route<any, any>>(route: R, req: RouteReq<R>, onEvent?: (e: ProgressEvent) => void,
    signal?: AbortSignal): Promise<RouteRes<R>> {
    const res = await this.send(route, req as Record<string, unknown>, undefined, signal);
    return this.finish<R>(res, onEvent);
  }

  /**
   * Open a WebSocket channel (sbx.stream.v1 attach, the sbx.changes.v1 feed): every socket the
   * CLI opens goes through here, on the unix socket or TCP with the token.
   */
  openChannel<P>(ch: Channel<P>, params: P): WebSocket {
    const { url, options } = this.channelTarget(ch, params as Record<string, unknown>);
    const Ws = loadWebSocket();
    const ws = new Ws(url, [ch.subprotocol], { ...options, perMessageDeflate: false });
    dropWhenPeerEnds(ws);
    return ws;
  }

  /** URL and headers to open a WebSocket channel (the ws client is the caller's). */
  channelTarget<P>(ch: Channel<P>, params: Record<string, unknown>): { url: string; options: Record<string, unknown> } {
    const { path, rest } = fillPath(ch.path, params);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) q.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    const qs = q.toString() ? `?${q}` : '';
    if (this.opts.host) {
      const base = this.opts.host.replace(/^http/, 'ws');
      return { url: `${base}${path}${qs}`, options: { headers: this.authHeaders() } };
    }
    return { url: `ws+unix://${this.socket}:${path}${qs}`, options: {} };
  }

  /** Make sure a daemon answers (starting one if allowed). */
  async ensureDaemon(): Promise<void> {
    await this.send({ method: 'GET', path: '/v1/version', kind: 'json' }, undefined).then(readAll);
  }

  private authHeaders(): Record<string, string> {
    return this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {};
  }

  private async finish<R extends Route<any, any>>(res: IncomingMessage, onEvent?: (e: ProgressEvent) => void): Promise<RouteRes<R>> {
    const type = String(res.headers['content-type'] ?? '');
    if (!type.includes('ndjson')) {
      const body = await readAll(res);
      return (body.length ? JSON.parse(body.toString('utf8')) : undefined) as RouteRes<R>;
    }
    let buf = '';
    let result: { value: RouteRes<R> } | undefined;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as ProgressLine<RouteRes<R>>;
        if (msg.type === 'result') result = { value: msg.value };
        else if (msg.type === 'error') throw SbxError.fromBody(msg.error);
        else onEvent?.(msg);
      }
    }
    if (!result) throw new SbxError('unavailable', 'sbxd closed the connection before the operation finished (see the daemon log)');
    return result.value;
  }

  private async send(route: Route<unknown, unknown>, req: Record<string, unknown> | undefined, body?: Readable | Buffer,
    signal?: AbortSignal): Promise<IncomingMessage> {
    const { path, rest } = fillPath(route.path, req);
    let payload: Buffer | undefined;
    let query = '';
    if (route.method === 'GET' || route.method === 'DELETE' || route.kind === 'upload' || route.kind === 'upload-progress') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) q.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      query = q.toString() ? `?${q}` : '';
    } else {
      payload = Buffer.from(JSON.stringify(rest));
    }
    const headers: Record<string, string | number> = { ...this.authHeaders() };
    if (payload) { headers['content-type'] = 'application/json'; headers['content-length'] = payload.length; }
    if (body) headers['content-type'] = 'application/octet-stream';
    const attempt = (): Promise<IncomingMessage> => new Promise((resolve, reject) => {
      const options: RequestOptions = { method: route.method, path: path + query, headers, signal };
      let target: RequestOptions;
      if (this.opts.host) {
        const u = new URL(this.opts.host);
        target = { ...options, host: u.hostname, port: u.port };
      } else {
        target = { ...options, socketPath: this.socket };
      }
      const r = request(target, resolve);
      r.on('error', reject);
      if (body && !Buffer.isBuffer(body)) {
        // A loop rather than body.pipe(r): under Bun, pipe() of a piped stdin sometimes never
        // ends the request (the chunked terminator is not sent) and the upload hangs.
        void sendBody(body, r).catch((e: Error) => r.destroy(e));
      } else {
        r.end(payload ?? body);
      }
    });
    let res: IncomingMessage;
    try {
      res = await attempt();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!this.opts.host && (code === 'ENOENT' || code === 'ECONNREFUSED') && this.opts.autostart && !this.started && !body) {
        await this.startDaemon();
        res = await attempt();
      } else {
        throw this.connectError(e);
      }
    }
    if ((res.statusCode ?? 500) >= 400) {
      const text = (await readAll(res)).toString('utf8');
      let parsed: unknown;
      try { parsed = JSON.parse(text); } catch { parsed = { code: 'internal', message: `sbxd answered ${res.statusCode}: ${text.slice(0, 200)}` }; }
      throw SbxError.fromBody(parsed);
    }
    return res;
  }

  private connectError(e: unknown): SbxError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      return new SbxError('unavailable', `connect to sbxd at ${this.opts.host ?? this.socket}: no daemon is listening (start one with "sbx daemon")`, { cause: e });
    }
    if (code === 'EACCES') return new SbxError('unavailable', `connect to sbxd at ${this.socket}: permission denied (run as root or join the socket's group)`, { cause: e });
    if (e instanceof SbxError) return e;
    return new SbxError('unavailable', `talk to sbxd at ${this.opts.host ?? this.socket}: ${(e as Error).message}`, { cause: e });
  }

  private async startDaemon(): Promise<void> {
    this.started = true;
    const root = this.opts.root ?? defaultRoot();
    await mkdir(root, { recursive: true, mode: 0o700 });
    const logFd = openSync(join(root, 'sbxd.log'), 'a', 0o600);
    const child = spawn(nodeBin(), [...SBXD_NODE_FLAGS, daemonMain()], {
      detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, ...SBXD_ENV, SBX_ROOT: root },
    });
    child.unref();
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        await new Promise<void>((resolve, reject) => {
          const r = request({ socketPath: this.socket, path: '/v1/version' }, (res) => { res.resume(); res.on('end', resolve); });
          r.on('error', reject);
          r.end();
        });
        return;
      } catch { /* not yet */ }
      if (child.exitCode !== null) break;
    }
    throw new SbxError('unavailable', `start sbxd: it did not answer on ${this.socket} (see ${join(root, 'sbxd.log')})`);
  }
}

async function sendBody(body: Readable, r: ClientRequest): Promise<void> {
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (!r.write(chunk)) await once(r, 'drain');
  }
  r.end();
}

export async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}
