/**
 * Several terminals at once in the page, in chromium: a run -it shell, an exec shell into the same
 * container and a run into another, each in its own tab and session. Each screen holds only its
 * own answers; each fits the window (its PTY told); a cut of one terminal's WebSocket in the
 * middle of its output resumes it with every line once while the others keep working and never
 * reconnect; closing a terminal (mouse or Delete) detaches its session and the process keeps
 * running. Keys: Alt+PgUp/PgDn switch, Shift+F6 to the tab, arrows along the strip.
 * Screenshots at 1280×800 and 800×600.
 */
import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Containers, Sessions } from '../protocol/index.js';
import { allLines, launchChromium, screen, shoot } from './_helpers/browser.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Tab { pane: string; label: string; selected: boolean }
interface Ctx { d: TestDaemon; browser: Browser; page: Page; link: string; errors: string[]; panes: string[] }
const terms = suite<Ctx>('ui: several terminals at once', {} as Ctx);

terms.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  const { url, token } = await ctx.d.daemon.ui.start({ addr: '127.0.0.1:0' });
  ctx.link = `${url}#token=${token}`;
  ctx.browser = await launchChromium();
  ctx.page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
  ctx.errors = [];
  ctx.page.on('pageerror', (e) => ctx.errors.push(e.message));
});
terms.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.d?.close();
});

async function tabs(page: Page): Promise<Tab[]> {
  return page.$$eval('#term-tabs [role=tab]', (ts) => ts.map((t) => ({
    pane: t.getAttribute('aria-controls') ?? '', label: t.textContent ?? '', selected: t.getAttribute('aria-selected') === 'true',
  })));
}

/** Run `name` (busybox sh) from the run form, as `sbx run -it`; its terminal opens as a new tab. */
async function runFromForm(page: Page, name: string, count: number): Promise<void> {
  await page.fill('#run-form input[name=name]', name);
  await page.fill('#run-form input[name=cmd]', 'sh');
  await page.click('#run-form button[type=submit]');
  await eventually(`tab ${count}`, async () => (await tabs(page)).length === count, 60000);
  await eventually(`${name}'s prompt`, async () => (await screen(page)).some((r) => r.startsWith('/ #')), 60000);
}

/** Show the terminal of `pane` (a click on its tab), type `line` and Enter. */
async function typeIn(page: Page, pane: string, line: string): Promise<void> {
  await page.click(`#tab-${pane}`);
  assert.ok(await page.evaluate((p) => !!document.activeElement?.closest(`#${p}`), pane), `the terminal of ${pane} has the keys`);
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

async function dials(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => Object.fromEntries(Object.entries((globalThis as unknown as { sbxTerms: Record<string, { dials: number }> }).sbxTerms).map(([k, v]) => [k, v.dials])));
}

async function sessionOf(page: Page, pane: string): Promise<string> {
  return page.evaluate((p) => (globalThis as unknown as { sbxTerms: Record<string, { session: string }> }).sbxTerms[p]!.session, pane);
}

terms('run -it, exec into the same container, run another: three tabs, each screen its own, each sized to the window', privileged<Ctx>(async (ctx) => {
  const { page } = ctx;
  await page.goto(ctx.link);
  await page.waitForSelector('#images tr >> text=busybox:latest', { timeout: 60000 });
  await runFromForm(page, 'ta', 1);
  await page.click('#containers tr[data-name=ta] button:has-text("shell")');
  await eventually('tab 2', async () => (await tabs(page)).length === 2, 60000);
  await eventually('the exec shell\'s prompt', async () => (await screen(page)).some((r) => r.startsWith('/ #')), 60000);
  await runFromForm(page, 'tb', 3);
  const t = await tabs(page);
  assert.equal(t.map((x) => x.label), ['ta: run sh', 'ta: exec sh', 'tb: run sh']);
  assert.equal(t.map((x) => x.selected), [false, false, true], 'the newest terminal is on show');
  ctx.panes = t.map((x) => x.pane);
  const sessions = await Promise.all(ctx.panes.map((p) => sessionOf(page, p)));
  assert.is(new Set(sessions).size, 3, 'three sessions');

  // a different command in each; each screen holds its own answer and none of the others'
  for (const [i, pane] of ctx.panes.entries()) await typeIn(page, pane, `echo answer-${i}-$((${i}*7+1)); tty`);
  const ttys: string[] = [];
  for (const [i, pane] of ctx.panes.entries()) {
    await eventually(`answer ${i} in its terminal`, async () => (await allLines(page, pane)).includes(`answer-${i}-${i * 7 + 1}`), 60000);
    const lines = await allLines(page, pane);
    for (const j of [0, 1, 2]) if (j !== i) assert.not.ok(lines.includes(`answer-${j}-${j * 7 + 1}`), `answer ${j} is not in terminal ${i}`);
    ttys.push(lines.find((l) => /^\/dev\/pts\/\d+$/.test(l)) ?? '');
  }
  assert.ok(ttys.every(Boolean), `each has a terminal: ${ttys.join(', ')}`);
  assert.is(new Set(ttys.slice(0, 2)).size, 2, 'run and exec in ta: two terminals');

  // keys: Alt+PageDown / Alt+PageUp switch from inside a terminal, wrapping around
  await page.click(`#tab-${ctx.panes[2]}`);
  await page.keyboard.press('Alt+PageDown');
  assert.ok((await tabs(page))[0]!.selected, 'Alt+PageDown from the last went to the first');
  assert.ok(await page.evaluate((p) => !!document.activeElement?.closest(`#${p}`), ctx.panes[0]!), 'with the keys in it');
  await page.keyboard.press('Alt+PageUp');
  assert.ok((await tabs(page))[2]!.selected, 'Alt+PageUp went back');
  await shoot(page, 'terminals-1280x800.png');

  // 800×600: every tab in view, and each terminal, once on show, fits the new size and tells its PTY
  const size = (pane: string): Promise<string> => page.evaluate((p) => {
    const t = (globalThis as unknown as { sbxTerms: Record<string, { term: { cols: number; rows: number } }> }).sbxTerms[p]!.term;
    return `${t.rows} ${t.cols}`;
  }, pane);
  const wide = await size(ctx.panes[2]!);
  await page.setViewportSize({ width: 800, height: 600 });
  for (const pane of ctx.panes) {
    await typeIn(page, pane, 'stty size');
    await eventually(`${pane}'s PTY has its new screen's size`, async () => {
      const now = await size(pane);
      const said = (await allLines(page, pane)).filter((l) => /^\d+ \d+$/.test(l)).at(-1);
      return now !== wide && said === now;
    }, 60000);
  }
  const boxes = await page.$$eval('#term-tabs .term-tab', (b) => b.map((x) => x.getBoundingClientRect().right));
  assert.ok(boxes.every((r) => r <= 800), `every tab in view at 800 px: ${boxes.join(', ')}`);
  assert.ok((await screen(page)).length > 5, 'a usable terminal at 800×600');
  await shoot(page, 'terminals-800x600.png');
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.equal(ctx.errors, [], 'no script errors on the page');
}));

terms('a cut of one terminal mid-output: it resumes with every line once; the others keep working, never redialled', privileged<Ctx>(async (ctx) => {
  const { page } = ctx;
  const [one, two, three] = ctx.panes as [string, string, string];
  const LINES = 12_000; // × 49 bytes = 588,000
  // the cut comes from inside the page once 1,000 lines were parsed: with at most a 256 KiB window
  // (5,300 lines) in flight, most of the output is still to come
  const before = await dials(page);
  await page.evaluate((p) => {
    type Buf = { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined };
    const g = globalThis as unknown as { sbxCut?: { n: number; done: boolean }; sbxTerms: Record<string, { sockets: Set<WebSocket>; term: { buffer: { active: Buf }; onWriteParsed(f: () => void): { dispose(): void } } }> };
    const t = g.sbxTerms[p]!;
    const start = t.term.buffer.active.length;
    const sub = t.term.onWriteParsed(() => {
      const b = t.term.buffer.active;
      if (b.length < start + 1000) return;
      sub.dispose();
      let done = false;
      for (let i = 0; i < b.length; i++) if (b.getLine(i)?.translateToString(true) === 'cut-done') done = true;
      g.sbxCut = { n: t.sockets.size, done };
      for (const w of t.sockets) w.close(4000, 'test cut');
    });
  }, two);
  await typeIn(page, two, `awk 'BEGIN{for(i=1;i<=${LINES};i++)printf "%06d %040d\\n",i,0}'; echo cut-done`);
  const cut = await eventually('the cut, 1,000 lines in', () => page.evaluate(() => (globalThis as unknown as { sbxCut?: { n: number; done: boolean } }).sbxCut), 60000);
  assert.is(cut.n, 1, 'its one socket was cut');
  assert.not.ok(cut.done, 'the cut came in the middle of the output');
  // meanwhile the first terminal answers (the second keeps going while hidden)
  await typeIn(page, one, 'echo still-$((6*7))');
  await eventually('the first terminal answers', async () => (await allLines(page, one)).includes('still-42'), 60000);
  await eventually('the cut terminal redialled', async () => (await dials(page))[two]! > before[two]!, 60000);
  await eventually('its output ends', async () => (await allLines(page, two)).includes('cut-done'), 120000, 100);
  const lines = (await allLines(page, two)).filter((l) => /^\d{6} 0{40}$/.test(l)).map((l) => Number(l.slice(0, 6)));
  assert.is(lines.length, LINES, 'every line is in the cut terminal, none twice');
  const wrong = lines.findIndex((n, i) => n !== i + 1);
  assert.is(wrong, -1, `in order, each once (first difference at line ${wrong + 1}: ${lines[wrong]})`);
  for (const p of [one, three]) {
    assert.not.ok((await allLines(page, p)).some((l) => /^\d{6} 0{40}$/.test(l)), `none of it in ${p}`);
  }
  const after = await dials(page);
  assert.is(after[one], before[one], 'the first terminal never redialled');
  assert.is(after[three], before[three], 'nor the third');
  assert.equal((await tabs(page)).map((x) => x.label), ['ta: run sh', 'ta: exec sh', 'tb: run sh'], 'no tab says it is reconnecting');
  assert.is(await page.textContent('#term-status'), '', 'the status line is clear');
  await typeIn(page, two, 'echo after-$((8*8))');
  await eventually('the cut terminal answers again', async () => (await allLines(page, two)).includes('after-64'), 60000);
}));

terms('closing a terminal detaches its session: the process keeps running, the other terminals stay', privileged<Ctx>(async (ctx) => {
  const { page, d } = ctx;
  const [one, two, three] = ctx.panes as [string, string, string];
  const containers = d.daemon.services.containers;
  const execSession = await sessionOf(page, two);
  const ta = await sessionOf(page, one); // run -it: the container's own session, its id
  assert.is(containers.session(execSession).attachmentCount(), 1, 'the exec shell has one viewer, the page');

  // by mouse: the × of the exec shell's tab
  await page.click(`#term-tabs .term-tab:has(#tab-${two}) .tab-close`);
  await eventually('the exec session has no viewer', () => containers.session(execSession).attachmentCount() === 0, 30000);
  assert.is((await d.client.call(Sessions.inspect, { session: execSession })).state, 'running', 'the exec shell still runs');
  assert.is(await page.$(`#${two}`), null, 'its pane is gone');
  assert.equal((await tabs(page)).map((x) => x.label), ['ta: run sh', 'tb: run sh']);

  // by keys: Shift+F6 from ta's terminal lands on its tab, → and ← move along the strip, Delete closes
  await page.click(`#tab-${one}`);
  await page.keyboard.press('Shift+F6');
  assert.is(await page.evaluate(() => document.activeElement?.id), `tab-${one}`, 'Shift+F6: the terminal\'s tab');
  await page.keyboard.press('ArrowRight');
  assert.is(await page.evaluate(() => document.activeElement?.id), `tab-${three}`, '→: the next tab');
  assert.ok((await tabs(page))[1]!.selected, 'and its terminal on show');
  await shoot(page, 'terminals-tab-focus-1280x800.png');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Delete');
  assert.equal((await tabs(page)).map((x) => x.label), ['tb: run sh'], 'Delete closed ta\'s terminal');
  assert.is(await page.evaluate(() => document.activeElement?.id), `tab-${three}`, 'the focus on the tab left');
  await eventually('ta\'s session has no viewer', () => containers.session(ta).attachmentCount() === 0, 30000);
  const inspect = await d.client.call(Containers.inspect, { id: 'ta' });
  assert.ok(inspect.State.Running, 'ta keeps running');

  // tb still answers; ta's shell is still there to attach to again, with what it printed before
  await typeIn(page, three, 'echo tb-$((3*3))');
  await eventually('tb answers', async () => (await allLines(page, three)).includes('tb-9'), 60000);
  await page.click('#containers tr[data-name=ta] button:has-text("attach")');
  await eventually('a tab attached to ta again', async () => (await tabs(page)).some((x) => x.label === 'ta: attach' && x.selected), 60000);
  const again = (await tabs(page)).find((x) => x.label === 'ta: attach')!.pane;
  await eventually('ta\'s earlier output, replayed once', async () => (await allLines(page, again)).filter((l) => l === 'still-42').length === 1, 60000);
  await page.keyboard.type('echo back-$((5*5))');
  await page.keyboard.press('Enter');
  await eventually('ta answers', async () => (await allLines(page, again)).includes('back-25'), 60000);
  await shoot(page, 'terminals-closed-1280x800.png');
  assert.equal(ctx.errors, [], 'no script errors on the page');
}));

terms.run();
