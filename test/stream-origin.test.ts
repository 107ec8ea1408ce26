/**
 * Cross-site WebSocket hijacking: a browser opens a WebSocket to any address a page names and
 * sends the page's Origin. Every upgrade on the API refuses a foreign Origin with 403 before
 * upgrading (no session attaches, no feed opens); the CLI, which sends none, is unaffected.
 */
import { createServer, type AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { Client } from '../cli/client.js';
import { Containers, encodeControl, parseServerControl, type ServerControl } from '../protocol/index.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

const TOKEN = 'origin-test-token';

interface Outcome { status?: number; body?: string; opened: boolean; first?: ServerControl; closeCode?: number }

/** Open a WebSocket, send a hello once open, and report how it went (bounded: 10 s). */
function tryOpen(url: string, protocol: string, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { opened: false };
    const ws = new WebSocket(url, [protocol], { headers });
    const timer = setTimeout(() => { ws.terminate(); resolve(out); }, 10000);
    const done = (): void => { clearTimeout(timer); resolve(out); };
    ws.on('unexpected-response', (_req, res) => {
      out.status = res.statusCode;
      let body = '';
      res.on('data', (d: Buffer) => { body += d; });
      res.on('end', () => { out.body = body; ws.terminate(); done(); });
    });
    ws.on('open', () => { out.opened = true; ws.send(encodeControl({ t: 'hello', v: 1 })); });
    ws.on('message', (d, isBinary) => { if (!isBinary && !out.first) out.first = parseServerControl(d.toString()); });
    ws.on('close', (code) => { out.closeCode = code; done(); });
    ws.on('error', () => undefined);
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

interface Ctx { d: TestDaemon; port: number }
const origin = suite<Ctx>('api: WebSocket upgrades check Origin', {} as Ctx);
origin.before(async (ctx) => {
  ctx.port = await freePort();
  ctx.d = await startTestDaemon({ tcp: `127.0.0.1:${ctx.port}`, token: TOKEN });
});
origin.after(async (ctx) => { await ctx.d?.close(); });

const paths: [string, string][] = [['/v1/sessions/nope/attach', 'sbx.stream.v1'], ['/v1/containers/nope/changes/feed', 'sbx.changes.v1']];

origin('a foreign Origin gets 403 before any upgrade, on TCP and on the unix socket, on every channel', async ({ d, port }) => {
  const bases = [`ws://127.0.0.1:${port}`, `ws+unix://${d.root}/sbx.sock:`];
  for (const base of bases) {
    for (const [path, proto] of paths) {
      for (const o of ['http://evil.example', `http://evil.example:${port}`, 'null', `https://127.0.0.1.evil.example:${port}`]) {
        const r = await tryOpen(base + path, proto, { origin: o, authorization: `Bearer ${TOKEN}` });
        assert.is(r.status, 403, `${base}${path} from ${o}`);
        assert.not.ok(r.opened);
        assert.match(r.body ?? '', /origin/i, 'the refusal says why');
      }
    }
  }
  // a browser page on the socket has no origin of its own to match
  const unix = await tryOpen(`ws+unix://${d.root}/sbx.sock:/v1/sessions/nope/attach`, 'sbx.stream.v1', { origin: 'http://localhost' });
  assert.is(unix.status, 403, 'no Origin is allowed on the unix socket');
});

origin("no Origin (the CLI) or the API's own origin on TCP: the upgrade goes through", async ({ port }) => {
  for (const o of [undefined, `http://127.0.0.1:${port}`, `https://127.0.0.1:${port}`, `http://localhost:${port}`]) {
    const r = await tryOpen(`ws://127.0.0.1:${port}/v1/sessions/nope/attach`, 'sbx.stream.v1', {
      authorization: `Bearer ${TOKEN}`, ...(o ? { origin: o } : {}),
    });
    assert.is(r.status, undefined, `from ${o ?? 'no origin'}`);
    assert.ok(r.opened, `opened from ${o ?? 'no origin'}`);
    assert.is(r.closeCode, 4404, 'then told the session does not exist');
  }
  const other = await tryOpen(`ws://127.0.0.1:${port}/v1/sessions/nope/attach`, 'sbx.stream.v1', {
    authorization: `Bearer ${TOKEN}`, origin: `http://127.0.0.1:${port + 1}`,
  });
  assert.is(other.status, 403, 'another port on the same host is another origin');
});

origin.run();

// ---

const attach = suite<{ d: TestDaemon }>('api: a foreign Origin attaches to no session', {} as { d: TestDaemon });
attach.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
attach.after(async (ctx) => { await ctx.d?.close(); });

attach('a running container: 403 and no attachment from evil.example; the CLI way (no Origin) attaches', privileged<{ d: TestDaemon }>(async ({ d }) => {
  const client = new Client({ socket: `${d.root}/sbx.sock` });
  const { id } = await client.call(Containers.create, { image: 'busybox', cmd: ['sh', '-c', 'echo secret-output; exec cat'], openStdin: true });
  try {
    await client.call(Containers.start, { id });
    const session = d.daemon.services.containers.session(id);
    const url = `ws+unix://${d.root}/sbx.sock:/v1/sessions/${id}/attach`;
    const evil = await tryOpen(url, 'sbx.stream.v1', { origin: 'http://evil.example' });
    assert.is(evil.status, 403);
    assert.not.ok(evil.opened);
    assert.not.match(evil.body ?? '', /secret-output/);
    assert.is(session.attachmentCount(), 0, 'no attachment was made');
    let count = -1;
    const cli = await new Promise<ServerControl | undefined>((resolve) => {
      const ws = new WebSocket(url, ['sbx.stream.v1']);
      const timer = setTimeout(() => { ws.terminate(); resolve(undefined); }, 10000);
      ws.on('open', () => ws.send(encodeControl({ t: 'hello', v: 1 })));
      ws.on('message', (m, isBinary) => {
        if (isBinary) return;
        clearTimeout(timer);
        count = session.attachmentCount();
        ws.close(1000);
        resolve(parseServerControl(m.toString()));
      });
      ws.on('error', () => undefined);
    });
    assert.is(cli?.t, 'attached');
    assert.is(count, 1, 'attached without an Origin');
  } finally {
    await client.call(Containers.remove, { id, force: true });
  }
}));

attach.run();
