/**
 * The page in a real browser: Debian's chromium, headless, driven by playwright-core (no browser
 * download). Log in with the printed token, start busybox from the run form, type into the
 * xterm.js terminal and read the answer from the screen, see the change list, cut the WebSocket
 * in the middle of 1 MB of output and find every line once, commit and see the history.
 * Screenshots at 1280×800 and 800×600 are kept in test-artifacts/ui/ (or $SBX_TEST_ARTIFACTS).
 */
import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Images, Layers } from '../protocol/index.js';
import { allLines, launchChromium, screen, shoot } from './_helpers/browser.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { requireTools, startDockerRegistry } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; browser: Browser; page: Page; link: string; errors: string[] }
const ui = suite<Ctx>('ui: the page in chromium', {} as Ctx);

ui.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  const { url, token } = await ctx.d.daemon.ui.start({ addr: '127.0.0.1:0' });
  ctx.link = `${url}#token=${token}`;
  ctx.browser = await launchChromium();
  // one context, as one browser's tabs: they share the session cookie
  ctx.page = await (await ctx.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  ctx.errors = [];
  ctx.page.on('pageerror', (e) => ctx.errors.push(e.message));
});
ui.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.d?.close();
});

ui('log in, run busybox, type into the terminal, see /x in the changes, survive a cut, commit', privileged<Ctx>(async (ctx) => {
  const { page } = ctx;
  await page.goto(ctx.link);
  assert.not.match(page.url(), /token/, 'the token leaves the address bar');
  await page.waitForSelector('#images tr >> text=busybox:latest', { timeout: 60000 });

  // run: busybox sh, attached like `sbx run -it`
  await page.fill('#run-form input[name=name]', 'web1');
  await page.fill('#run-form input[name=cmd]', 'sh');
  await page.click('#run-form button[type=submit]');
  await eventually('the shell prompt on screen', async () => (await screen(page)).some((r) => r.startsWith('/ #')), 60000);
  await page.click('#terminal');
  await page.keyboard.type('echo hello > /x; cat /x');
  await page.keyboard.press('Enter');
  await eventually('"hello" on a line of its own', async () => (await screen(page)).includes('hello'), 60000);
  await eventually('/x in the change list', async () => (await page.textContent('#changes'))?.includes('A /x'), 60000);
  await shoot(page, 'page-1280x800.png');
  await page.setViewportSize({ width: 800, height: 600 });
  await eventually('the terminal fits 800×600', async () => (await screen(page)).length > 5);
  await shoot(page, 'page-800x600.png');
  await page.setViewportSize({ width: 1280, height: 800 });

  // a cut in the middle of 1 MB of output: every line arrives once (47-byte lines, narrower than the terminal)
  const LINES = 22_000; // 22,000 × 49 bytes (CR LF) = 1,078,000 bytes
  assert.ok(await page.evaluate(() => (globalThis as unknown as { sbxTerm: { cols: number } }).sbxTerm.cols) > 47, 'lines fit');
  // the cut comes from inside the page once 1,000 lines were parsed (polling the screen from here
  // could see the end first on a busy machine): at most a 256 KiB window is in flight, most is to come
  await page.evaluate(() => {
    type Buf = { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined };
    const g = globalThis as unknown as { sbxCut?: { sockets: number; done: boolean; dials: number }; sbxSockets: Set<WebSocket>; sbxDials: number; sbxTerm: { buffer: { active: Buf }; onWriteParsed(f: () => void): { dispose(): void } } };
    const start = g.sbxTerm.buffer.active.length;
    const sub = g.sbxTerm.onWriteParsed(() => {
      const b = g.sbxTerm.buffer.active;
      if (b.length < start + 1000) return;
      sub.dispose();
      let done = false;
      for (let i = 0; i < b.length; i++) if (b.getLine(i)?.translateToString(true) === 'out-done') done = true;
      g.sbxCut = { sockets: g.sbxSockets.size, done, dials: g.sbxDials };
      for (const w of g.sbxSockets) w.close(4000, 'test cut');
    });
  });
  await page.keyboard.type(`awk 'BEGIN{for(i=1;i<=${LINES};i++)printf "%06d %040d\\n",i,0}'; echo out-done`);
  await page.keyboard.press('Enter');
  const cut = await eventually('the cut, 1,000 lines in', () => page.evaluate(() => (globalThis as unknown as { sbxCut?: { sockets: number; done: boolean; dials: number } }).sbxCut), 60000);
  assert.ok(cut.sockets >= 1, 'a socket was cut');
  assert.not.ok(cut.done, 'the cut came in the middle of the output');
  await eventually('a new connection', async () => page.evaluate((d) => (globalThis as unknown as { sbxDials: number }).sbxDials > d, cut.dials));
  await eventually('the output ends', async () => (await allLines(page)).includes('out-done'), 60000, 100);
  const lines = (await allLines(page)).filter((l) => /^\d{6} 0{40}$/.test(l)).map((l) => Number(l.slice(0, 6)));
  assert.is(lines.length, LINES, 'every line is on screen, none twice');
  const wrong = lines.findIndex((n, i) => n !== i + 1);
  assert.is(wrong, -1, `in order, each once (first difference at line ${wrong + 1}: ${lines[wrong]})`);
  assert.is(await page.textContent('#term-status'), '', 'the reconnect note is gone');

  // commit with a message: the new image and its history
  await page.fill('#commit-form input[name=reference]', 'web1img:v1');
  await page.fill('#commit-form input[name=message]', 'hello file');
  await page.fill('#commit-form input[name=cmd]', '["cat", "/x"]');
  await page.click('#commit-form button[type=submit]');
  await page.waitForSelector('#commit-result >> text=committed', { timeout: 30000 });
  await page.waitForSelector('#history >> text=hello file', { timeout: 60000 });
  await page.waitForSelector('#images >> text=web1img:v1', { timeout: 60000 });
  const inspect = await ctx.d.client.call(Images.inspect, { ref: 'web1img:v1' });
  assert.equal(inspect.Config?.Cmd, ['cat', '/x']);
  // the layer explorer: the new layer (top, open) adds /x
  await page.click('#images tr:has-text("web1img:v1") button:has-text("layers")');
  await page.waitForSelector('#layers details[open] li:has-text("A /x")', { timeout: 60000 });
  const layers = await ctx.d.client.call(Layers.list, { ref: 'web1img:v1' });
  assert.is(layers.length, 2);
  assert.ok(layers[1]!.changes.some((c) => c.op === 'add' && c.path === '/x' && c.size === 6), 'the top layer adds /x, 6 bytes');
  assert.ok(layers[0]!.changes.some((c) => c.op === 'add' && c.path === '/bin/busybox'), 'the base layer adds busybox');
  await shoot(page, 'page-committed-1280x800.png');
  assert.equal(ctx.errors, [], 'no script errors on the page');
}));

ui('a second tab attaches to the same shell: keys from either show in both', privileged<Ctx>(async (ctx) => {
  // web1 (sh, run from the page by the first test) is still running
  const tab2 = await ctx.page.context().newPage();
  tab2.on('pageerror', (e) => ctx.errors.push(e.message));
  try {
    await tab2.goto(new URL(ctx.link).origin + '/');
    await tab2.click('#containers tr[data-name=web1] button:has-text("attach")');
    await tab2.click('#terminal');
    await tab2.keyboard.press('Enter');
    await eventually('a prompt in tab 2', async () => (await screen(tab2)).some((r) => r.startsWith('/ #')), 60000);
    await tab2.keyboard.type('echo from-$((1+1))-tabs');
    await tab2.keyboard.press('Enter');
    for (const [name, p] of [['tab 2', tab2], ['tab 1', ctx.page]] as const) {
      await eventually(`the answer in ${name}`, async () => (await allLines(p)).includes('from-2-tabs'), 60000);
    }
    await ctx.page.click('#terminal');
    await ctx.page.keyboard.type('echo back-$((2+1))');
    await ctx.page.keyboard.press('Enter');
    await eventually('tab 1\'s command answered in tab 2', async () => (await allLines(tab2)).includes('back-3'), 60000);
  } finally {
    await tab2.close();
  }
}));

ui('push an image to a registry `sbx login` told the daemon about, with progress, from the page', privileged<Ctx>(async (ctx) => {
  if (!await requireTools('docker-registry', 'htpasswd')) return;
  const reg = await startDockerRegistry({ auth: true });
  try {
    const { page } = ctx;
    const target = `${reg.host}/web/busybox:v1`;
    const pushFromPage = async (): Promise<string> => {
      await page.selectOption('#push-image', 'busybox:latest');
      await page.fill('#push-form input[name=target]', target);
      await page.click('#push-button');
      await eventually('the push ends', async () => /^(v1: digest|push failed)/.test(await page.textContent('#push-result') ?? ''), 60000);
      return (await page.textContent('#push-result')) ?? '';
    };
    // not logged in yet: the registry refuses, and the page says so
    assert.match(await pushFromPage(), /^push failed: .*(unauthori[sz]ed|authentication)/i);
    const login = await sbx(ctx.d.root, ['login', reg.host, '-u', reg.user!, '--password-stdin'], { input: `${reg.password}\n` });
    assert.is(login.code, 0, login.stderr);
    const done = await pushFromPage();
    assert.match(done, /^v1: digest: sha256:[0-9a-f]{64} size: \d+$/);
    const rows = await page.$$eval('#push-progress li', (li) => li.map((l) => l.textContent ?? ''));
    assert.ok(rows.includes(`The push refers to repository [${reg.host}/web/busybox]`), rows.join('\n'));
    assert.ok(rows.some((r) => /^[0-9a-f]{12}: Pushed$/.test(r)), `a layer row ends Pushed: ${rows.join('\n')}`);
    // the registry holds what the page said it pushed
    const digest = /sha256:[0-9a-f]{64}/.exec(done)![0];
    const res = await fetch(`http://${reg.host}/v2/web/busybox/manifests/v1`, {
      method: 'HEAD',
      headers: { authorization: `Basic ${Buffer.from(`${reg.user}:${reg.password}`).toString('base64')}`, accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.is(res.status, 200);
    assert.is(res.headers.get('docker-content-digest'), digest);
    await page.waitForSelector('#images >> text=web/busybox:v1', { timeout: 60000 });
    await page.locator('#push-result').scrollIntoViewIfNeeded();
    await shoot(page, 'page-pushed-1280x800.png');
    assert.equal(ctx.errors, [], 'no script errors on the page');
  } finally {
    await reg.close();
  }
}));

ui.run();
