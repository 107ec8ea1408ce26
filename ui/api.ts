/**
 * The page's side of the API: the same route descriptors the CLI calls (protocol/), over fetch
 * with the session cookie; WebSockets opened with a single-use ticket (protocol/ui.ts).
 */
import {
  SbxError, UI_AUTH_PROTOCOL_PREFIX, Ui, fillPath,
  type Channel, type ErrorBody, type ProgressEvent, type ProgressLine, type Route, type RouteReq, type RouteRes,
} from '../protocol/index.js';

/** Send a route's request as the CLI's client does: path params filled, GET in the query, POST in the body. */
async function send<R extends Route<any, any>>(route: R, req?: RouteReq<R>): Promise<Response> {
  const { path, rest } = fillPath(route.path, req as Record<string, unknown> | undefined);
  let url = path;
  const init: RequestInit = { method: route.method, credentials: 'same-origin', headers: {} };
  if (route.method === 'GET' || route.method === 'DELETE') {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) q.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    if ([...q].length) url += `?${q}`;
  } else {
    init.body = JSON.stringify(rest);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  if (res.ok) return res;
  const text = await res.text();
  let body: ErrorBody | undefined;
  try { body = JSON.parse(text) as ErrorBody; } catch { /* not JSON */ }
  if (res.status === 401) loggedOut();
  throw new SbxError(body?.code ?? 'internal', body?.message ?? `${route.method} ${path}: HTTP ${res.status}`);
}

/** Call a JSON route. */
export async function call<R extends Route<any, any>>(route: R, req?: RouteReq<R>): Promise<RouteRes<R>> {
  const res = await send(route, req);
  if (res.status === 204) return undefined as RouteRes<R>;
  return JSON.parse(await res.text()) as RouteRes<R>;
}

/** Call a 'progress' route (NDJSON): each event as it comes, then the result, as the CLI's client.progress. */
export async function progress<R extends Route<any, any>>(route: R, req: RouteReq<R>, onEvent: (e: ProgressEvent) => void): Promise<RouteRes<R>> {
  const res = await send(route, req);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let result: { value: RouteRes<R> } | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as ProgressLine<RouteRes<R>>;
      if (msg.type === 'result') result = { value: msg.value };
      else if (msg.type === 'error') throw SbxError.fromBody(msg.error);
      else onEvent(msg);
    }
  }
  if (!result) throw new SbxError('unavailable', 'sbxd closed the connection before the operation finished (see the daemon log)');
  return result.value;
}

/** Spend the login token from the URL's fragment, then drop it from the address bar and history. */
export async function login(): Promise<void> {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, '', location.pathname);
  await call(Ui.login, { token: m[1]! }).catch(() => undefined);
}

let onLoggedOut: () => void = () => undefined;
export function whenLoggedOut(fn: () => void): void { onLoggedOut = fn; }
function loggedOut(): void { onLoggedOut(); }

/** A browser WebSocket to a channel: fetch a ticket for its path, then open with it. */
export async function openChannel<P>(ch: Channel<P>, params: P & Record<string, unknown>): Promise<WebSocket> {
  const { path, rest } = fillPath(ch.path, params);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) q.set(k, String(v));
  const { ticket } = await call(Ui.ticket, { path });
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}${[...q].length ? `?${q}` : ''}`;
  const ws = new WebSocket(url, [ch.subprotocol, UI_AUTH_PROTOCOL_PREFIX + ticket]);
  ws.binaryType = 'arraybuffer';
  return ws;
}
