/**
 * The page over TLS (`sbx ui --tls-cert --tls-key`), in Debian's chromium: a certificate made
 * here with openssl for 127.0.0.1 (the browser is told to accept it, in this test only), the page
 * and its WebSockets over https/wss, the session cookie Secure; a bad or missing PEM is refused
 * with a clear error before anything listens; plain HTTP gets no page from the TLS port.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium, screen } from './_helpers/browser.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { must } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; dir: string; cert: string; key: string; browser?: Browser }
const tls = suite<Ctx>('ui: the page over TLS', {} as Ctx);

tls.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.dir = await tmpdir('sbx-ui-tls-');
  ctx.cert = join(ctx.dir, 'cert.pem');
  ctx.key = join(ctx.dir, 'key.pem');
  await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', ctx.key, '-out', ctx.cert]);
  ctx.d = await startBusyboxDaemon();
});
tls.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.d?.close();
  if (ctx.dir) await rmrf(ctx.dir);
});

/** Whatever a plain-HTTP GET gets from `url` (a status, or the error that ended it). */
function plainGet(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 20000 }, (res) => { res.resume(); resolve(`HTTP ${res.statusCode}`); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

tls('a missing or wrong PEM is refused before listening, and says which file', privileged<Ctx>(async (ctx) => {
  const missing = await sbx(ctx.d.root, ['ui', '--addr', '127.0.0.1:0', '--tls-cert', join(ctx.dir, 'nope.pem'), '--tls-key', ctx.key]);
  assert.is(missing.code, 125, missing.stderr);
  assert.match(missing.stderr, /--tls-cert \S*nope\.pem: cannot read it \(ENOENT\)/);
  const swapped = await sbx(ctx.d.root, ['ui', '--addr', '127.0.0.1:0', '--tls-cert', ctx.key, '--tls-key', ctx.cert]);
  assert.is(swapped.code, 125, swapped.stderr);
  assert.match(swapped.stderr, /not a PEM certificate and its key/);
  assert.is(missing.stdout + swapped.stdout, '', 'no link printed');
}));

tls('https and wss in chromium: log in, Secure cookie, run busybox, type, read the answer', privileged<Ctx>(async (ctx) => {
  const r = await sbx(ctx.d.root, ['ui', '--addr', '127.0.0.1:0', '--tls-cert', ctx.cert, '--tls-key', ctx.key]);
  assert.is(r.code, 0, r.stderr);
  const m = /^(https:\/\/127\.0\.0\.1:\d+\/)#token=[\w-]{43}\n$/.exec(r.stdout);
  assert.ok(m, `sbx ui prints an https URL, got ${JSON.stringify(r.stdout)}`);
  assert.not.match(await plainGet(m![1]!.replace('https:', 'http:')), /^HTTP 200/, 'plain HTTP gets no page');

  ctx.browser = await launchChromium(['--ignore-certificate-errors']);
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(r.stdout.trim());
  await page.waitForSelector('#images tr >> text=busybox:latest', { timeout: 60000 });
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'sbx_session');
  assert.ok(session, 'logged in');
  assert.ok(session!.secure && session!.httpOnly && session!.sameSite === 'Strict', JSON.stringify(session));

  await page.fill('#run-form input[name=name]', 'tls1');
  await page.fill('#run-form input[name=cmd]', 'sh');
  await page.click('#run-form button[type=submit]');
  await eventually('the prompt over wss', async () => (await screen(page)).some((l) => l.startsWith('/ #')), 60000);
  await page.click('#terminal');
  await page.keyboard.type('echo tls-$((40+2))');
  await page.keyboard.press('Enter');
  await eventually('the answer on screen', async () => (await screen(page)).includes('tls-42'), 60000);
  assert.match(page.url(), /^https:\/\/127\.0\.0\.1:\d+\/$/, 'no token left in the address bar');
  assert.equal(errors, [], 'no script errors on the page');
}));

tls.run();
