/**
 * The browser page's listener (`sbx ui`): loopback by default; a one-time token becomes an
 * HttpOnly SameSite=Strict session cookie; every API call needs the session, every state change
 * the page's own Origin; every WebSocket the page's own Origin (403 before any upgrade: cross-site
 * WebSocket hijacking) and a single-use ticket for its path; elsewhere than loopback, TLS or
 * --insecure.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { UiServer } from '../daemon/ui/server.js';
import { silentLogger } from '../daemon/util/log.js';
import { encodeControl } from '../protocol/index.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

const SBXD = join(dirname(fileURLToPath(import.meta.url)), '..', 'daemon', 'main.js');

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function http(url: string, method: string, headers: Record<string, string> = {}, body?: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, headers: { ...headers, ...(data ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

interface WsOutcome { status?: number; body?: string; opened: boolean; protocol?: string; closeCode?: number }

function tryWs(url: string, protocols: string[], headers: Record<string, string>): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const out: WsOutcome = { opened: false };
    const ws = new WebSocket(url, protocols, { headers });
    const timer = setTimeout(() => { ws.terminate(); resolve(out); }, 10000);
    const done = (): void => { clearTimeout(timer); resolve(out); };
    ws.on('unexpected-response', (_q, res) => {
      out.status = res.statusCode;
      let b = '';
      res.on('data', (d: Buffer) => { b += d; });
      res.on('end', () => { out.body = b; ws.terminate(); done(); });
    });
    ws.on('open', () => { out.opened = true; out.protocol = ws.protocol; ws.send(encodeControl({ t: 'hello', v: 1 })); });
    ws.on('close', (code) => { out.closeCode = code; done(); });
    ws.on('error', () => undefined);
  });
}

interface Ctx { d: TestDaemon; base: string; own: string; cookie: string }
const ui = suite<Ctx>('ui: login, session, Origin and tickets', {} as Ctx);

ui.before(async (ctx) => {
  ctx.d = await startTestDaemon();
  const r = await sbx(ctx.d.root, ['ui', '--addr', '127.0.0.1:0']);
  assert.is(r.code, 0, r.stderr);
  const m = /^(http:\/\/127\.0\.0\.1:\d+\/)#token=([A-Za-z0-9_-]{43})\n$/.exec(r.stdout);
  assert.ok(m, `sbx ui prints URL#token=TOKEN, got ${JSON.stringify(r.stdout)}`);
  ctx.base = m![1]!.slice(0, -1);
  ctx.own = ctx.base;
  const bad = await http(`${ctx.base}/ui/login`, 'POST', { origin: ctx.own }, { token: 'x'.repeat(43) });
  assert.is(bad.status, 401, 'a wrong token does not log in');
  const foreign = await http(`${ctx.base}/ui/login`, 'POST', { origin: 'http://evil.example' }, { token: m![2] });
  assert.is(foreign.status, 403, 'another site cannot spend the token');
  const ok = await http(`${ctx.base}/ui/login`, 'POST', { origin: ctx.own }, { token: m![2] });
  assert.is(ok.status, 204, ok.body);
  const setCookie = String(ok.headers['set-cookie']);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  ctx.cookie = setCookie.split(';')[0]!;
  const again = await http(`${ctx.base}/ui/login`, 'POST', { origin: ctx.own }, { token: m![2] });
  assert.is(again.status, 401, 'the token works once');
});
ui.after(async (ctx) => { await ctx.d?.close(); });

ui('the page itself is served to anyone, framed by no one', async ({ base }) => {
  const r = await http(`${base}/`, 'GET');
  assert.is(r.status, 200);
  assert.match(String(r.headers['content-type']), /text\/html/);
  assert.match(r.body, /<script type="module" src="\/app\.js">/);
  assert.is(r.headers['x-frame-options'], 'DENY');
  assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
  assert.is((await http(`${base}/../../etc/passwd`, 'GET')).status, 404);
});

ui('the API needs the session cookie; state changes need the own Origin', async ({ base, own, cookie }) => {
  assert.is((await http(`${base}/v1/containers`, 'GET')).status, 401, 'no cookie');
  assert.is((await http(`${base}/v1/containers`, 'GET', { cookie: 'sbx_session=forged' })).status, 401, 'a forged cookie');
  const list = await http(`${base}/v1/containers`, 'GET', { cookie });
  assert.is(list.status, 200, list.body);
  assert.equal(JSON.parse(list.body), []);
  const csrf = await http(`${base}/v1/containers`, 'POST', { cookie, origin: 'http://evil.example' }, { image: 'busybox' });
  assert.is(csrf.status, 403, 'a cross-site POST with the cookie is refused');
  const noOrigin = await http(`${base}/v1/containers`, 'POST', { cookie }, { image: 'busybox' });
  assert.is(noOrigin.status, 403, 'a POST without Origin is refused');
  const start = await http(`${base}/v1/ui`, 'POST', { cookie, origin: own }, {});
  assert.is(start.status, 403, 'the page cannot mint login tokens');
});

async function ticket(base: string, own: string, cookie: string, path: string): Promise<string> {
  const r = await http(`${base}/v1/ui/tickets`, 'POST', { cookie, origin: own }, { path });
  assert.is(r.status, 200, r.body);
  return (JSON.parse(r.body) as { ticket: string }).ticket;
}

ui('cross-site WebSocket hijacking: a foreign Origin gets 403 even with a valid ticket and cookie', async ({ base, own, cookie }) => {
  const path = '/v1/sessions/nope/attach';
  const t = await ticket(base, own, cookie, path);
  for (const origin of ['http://evil.example', 'null', `${own.replace('127.0.0.1', '127.0.0.1.evil.example')}`]) {
    const r = await tryWs(`${base.replace('http', 'ws')}${path}`, ['sbx.stream.v1', `sbx.auth.${t}`], { origin, cookie });
    assert.is(r.status, 403, origin);
    assert.not.ok(r.opened);
    assert.match(r.body ?? '', /origin/i);
  }
  const none = await tryWs(`${base.replace('http', 'ws')}${path}`, ['sbx.stream.v1', `sbx.auth.${t}`], { cookie });
  assert.is(none.status, 403, 'no Origin: not a page, refused');
  // the refusals spent nothing: the ticket still opens the socket from the page's own origin
  const r = await tryWs(`${base.replace('http', 'ws')}${path}`, ['sbx.stream.v1', `sbx.auth.${t}`], { origin: own });
  assert.ok(r.opened, `status ${r.status} ${r.body}`);
  assert.is(r.protocol, 'sbx.stream.v1', 'the ticket is never echoed');
  assert.is(r.closeCode, 4404, 'reached the API: no such session');
});

ui('a WebSocket needs a single-use ticket for its own path; the cookie alone opens nothing', async ({ base, own, cookie }) => {
  const ws = base.replace('http', 'ws');
  const path = '/v1/sessions/nope/attach';
  const noTicket = await tryWs(`${ws}${path}`, ['sbx.stream.v1'], { origin: own, cookie });
  assert.is(noTicket.status, 401);
  const other = await ticket(base, own, cookie, '/v1/containers/x/changes/feed');
  assert.is((await tryWs(`${ws}${path}`, ['sbx.stream.v1', `sbx.auth.${other}`], { origin: own })).status, 401, 'a ticket for another path');
  const t = await ticket(base, own, cookie, path);
  assert.ok((await tryWs(`${ws}${path}`, ['sbx.stream.v1', `sbx.auth.${t}`], { origin: own })).opened);
  assert.is((await tryWs(`${ws}${path}`, ['sbx.stream.v1', `sbx.auth.${t}`], { origin: own })).status, 401, 'used once');
  const noSession = await http(`${base}/v1/ui/tickets`, 'POST', { origin: own }, { path });
  assert.is(noSession.status, 401, 'tickets need the session');
});

ui.run();

const listen = suite('ui: where it may listen');

listen('not on another address than loopback without TLS, unless --insecure; cert and key go together', async () => {
  const server = new UiServer({ backend: { request: () => undefined, upgrade: () => undefined }, log: silentLogger, staticDir: '/nonexistent' });
  try {
    for (const addr of ['0.0.0.0:0', '[::]:0', '192.0.2.1:7080']) {
      const e = await server.start({ addr }).then(() => undefined, (err: Error) => err);
      assert.ok(e, `${addr} refused`);
      assert.match(e!.message, /--tls-cert and --tls-key, or --insecure/);
    }
    const half = await server.start({ addr: '0.0.0.0:0', tlsCert: '/x.pem' }).then(() => undefined, (err: Error) => err);
    assert.match(half?.message ?? '', /go together/);
  } finally {
    await server.close();
  }
});

listen('sbx ui refuses a public address without TLS and says how', async () => {
  const d = await startTestDaemon();
  try {
    const r = await sbx(d.root, ['ui', '--addr', '0.0.0.0:7080']);
    assert.is(r.code, 125);
    assert.match(r.stderr, /--insecure/);
  } finally {
    await d.close();
  }
});

listen('sbxd --ui ADDR serves the page and prints its login link on stdout, not in its log', async () => {
  const root = await tmpdir('sbx-ui-');
  const child = spawn(process.execPath, [SBXD, '--root', root, '--ui', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d; });
  child.stderr.on('data', (d: Buffer) => { err += d; });
  try {
    const m = await eventually('the link on stdout', () => /sbx ui: open (http:\/\/127\.0\.0\.1:\d+\/)#token=([\w-]{43})\n/.exec(out) ?? undefined, 30000);
    const page = await http(m[1]!, 'GET');
    assert.is(page.status, 200);
    const login = await http(`${m[1]}ui/login`, 'POST', { origin: m[1]!.slice(0, -1) }, { token: m[2] });
    assert.is(login.status, 204);
    assert.not.ok(err.includes(m[2]!), 'the token is not in the log');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    await rmrf(root);
  }
});

listen.run();
