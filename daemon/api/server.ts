/**
 * The API server: one http.Server for JSON routes (router.ts) and WebSocket channels (ws in
 * noServer mode, dispatched by path). Listens on the unix socket (mode 0660) and optionally on
 * TCP, where every request must carry `Authorization: Bearer <token>`.
 * A WebSocket upgrade that carries an Origin header other than the API's own is refused with 403
 * before anything else (cross-site WebSocket hijacking: a browser sends any page's WebSockets
 * with its origin and, to loopback, from any site). The CLI sends none. On the unix socket no
 * Origin is allowed (no browser page is served from it); on TCP only http(s)://ADDRESS, ADDRESS
 * being the configured listen address or the address the connection came in on (never the Host
 * header, which DNS rebinding controls), and http(s)://localhost:PORT on a loopback address.
 */
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { HTTP_STATUS, SbxError, matchPath, type Channel } from '../../protocol/index.js';
import type { Services } from '../services.js';
import { Router } from './router.js';
import type { DockerRoom } from './docker/index.js';
import { heapSettler } from '../util/settle.js';

export type ChannelHandler = (ws: WebSocket, params: Record<string, string>, query: URLSearchParams, req: IncomingMessage) => void;

export interface ApiServer {
  router: Router;
  /** Register a WebSocket channel. */
  channel<P>(ch: Channel<P>, handler: ChannelHandler): void;
  listen(): Promise<void>;
  close(): Promise<void>;
  /** Answer a request another listener has authorized (the UI's, daemon/ui/server.ts). */
  request(req: IncomingMessage, res: ServerResponse): void;
  /** Upgrade a WebSocket another listener has authorized, Origin included, to its channel. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function createApiServer(services: Services): ApiServer {
  const { config, log } = services;
  const router = new Router(log);
  // the Docker Engine API room loads with the first request /v1 declines, not with every daemon
  let room: Promise<DockerRoom> | undefined;
  const docker = (): Promise<DockerRoom> => room ??= import('./docker/index.js').then((m) => m.createDockerApi(services));
  const channels: { ch: Channel<unknown>; handler: ChannelHandler }[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });
  const servers: Server[] = [];
  // the heap is compacted once the daemon has been quiet for a second after start-up or a request
  const settler = heapSettler();

  const authorized = (req: IncomingMessage): boolean => {
    if (req.socket.remoteAddress === undefined) return true; // unix socket: file mode guards it
    return req.headers.authorization === `Bearer ${config.token}`;
  };

  /** withDocker: the Docker Engine API answers what /v1 does not (the main listener, not the UI's). */
  const serve = (req: IncomingMessage, res: ServerResponse, withDocker = false): void => {
    settler.busy();
    res.once('close', () => settler.busy());
    router.handle(req, res).then(async (handled) => handled || (withDocker && (await docker()).handle(req, res, (err, what) => router.clientError(err, what)))).then((handled) => {
      if (handled) return;
      const e = new SbxError('not_found', `${req.method} ${req.url}: no such endpoint (is the CLI newer than sbxd?)`);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(e.toBody()));
    }, (err) => {
      log.error('request failed', { url: req.url, error: String(err) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };

  /** withDocker: docker's hijacked streams and attach/ws (api/docker/attach.ts) on what no /v1 channel takes. */
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, withDocker = false): void => {
    settler.busy();
    const url = new URL(req.url ?? '/', 'http://sbx');
    for (const { ch, handler } of channels) {
      const params = matchPath(ch.path, url.pathname);
      if (!params) continue;
      wss.handleUpgrade(req, socket, head, (ws) => handler(ws, params, url.searchParams, req));
      return;
    }
    if (!withDocker) { socket.end('HTTP/1.1 404 Not Found\r\n\r\n'); return; }
    docker().then((d) => {
      if (!d.upgrade(req, socket, head, (err, what) => router.clientError(err, what))) socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    }, (err: unknown) => {
      log.error('upgrade failed', { url: req.url, error: String(err) });
      socket.destroy();
    });
  };

  const make = (): Server => {
    const server = createServer((req, res) => {
      if (!authorized(req)) {
        const e = new SbxError('unauthorized', 'sbxd: a bearer token is required on TCP');
        res.writeHead(HTTP_STATUS[e.code], { 'content-type': 'application/json' }).end(JSON.stringify(e.toBody()));
        return;
      }
      serve(req, res, true);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const origin = req.headers.origin;
      if (origin !== undefined && !ownOrigin(origin, req, config.tcp)) {
        const e = new SbxError('unauthorized', `WebSocket from origin ${origin.slice(0, 100)}: refused, only the API's own origin may open one (the CLI sends none)`);
        const body = JSON.stringify(e.toBody());
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      if (!authorized(req)) { socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n'); return; }
      upgrade(req, socket, head, true); // docker's streams: the main listener only, never the UI's
    });
    server.keepAliveTimeout = 5000;
    return server;
  };

  return {
    router,
    channel(ch, handler) { channels.push({ ch: ch as Channel<unknown>, handler }); },
    request: serve,
    upgrade,
    async listen() {
      await rm(config.socket, { force: true });
      const unix = make();
      await new Promise<void>((resolve, reject) => { unix.once('error', reject); unix.listen(config.socket, resolve); });
      await chmod(config.socket, 0o660);
      servers.push(unix);
      if (config.tcp) {
        const idx = config.tcp.lastIndexOf(':');
        const host = config.tcp.slice(0, idx).replace(/^\[|\]$/g, '');
        const port = Number(config.tcp.slice(idx + 1));
        const tcp = make();
        await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(port, host, resolve); });
        servers.push(tcp);
      }
      settler.busy();
    },
    async close() {
      settler.close();
      for (const c of wss.clients) c.terminate();
      await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
      await rm(config.socket, { force: true });
    },
  };
}

/** Whether `origin` is the API's own (see the file comment); `tcp` is the configured TCP address. */
function ownOrigin(origin: string, req: IncomingMessage, tcp: string | undefined): boolean {
  const local = req.socket.localAddress;
  if (local === undefined) return false; // the unix socket
  let got: string;
  try { got = new URL(origin).origin; } catch { return false; } // "null" and other opaque origins
  const port = req.socket.localPort ?? 0;
  const ip = local.replace(/^::ffff:(?=\d+\.)/, '');
  const hosts = [`${ip.includes(':') ? `[${ip}]` : ip}:${port}`];
  if (tcp) hosts.push(tcp);
  if (/^(127\.|::1$)/.test(ip)) hosts.push(`localhost:${port}`);
  for (const h of hosts) {
    for (const scheme of ['http', 'https']) {
      try { if (new URL(`${scheme}://${h}`).origin === got) return true; } catch { /* not a host:port */ }
    }
  }
  return false;
}
