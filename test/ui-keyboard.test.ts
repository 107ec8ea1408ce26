/**
 * The page with the keyboard alone, in chromium: Tab reaches every control with a visible focus
 * ring; a container runs from the form by keys; the terminal takes keys (Tab included) and F6 /
 * Shift+F6 leave it (Shift+F6 to its tab); a change row, the layer explorer and commit answer Enter. Screenshots of the
 * focused page at 1280×800 and 800×600.
 */
import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium, screen, shoot } from './_helpers/browser.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; browser: Browser; page: Page; link: string; errors: string[] }
const kb = suite<Ctx>('ui: keyboard and focus', {} as Ctx);

kb.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  const { url, token } = await ctx.d.daemon.ui.start({ addr: '127.0.0.1:0' });
  ctx.link = `${url}#token=${token}`;
  ctx.browser = await launchChromium();
  ctx.page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
  ctx.errors = [];
  ctx.page.on('pageerror', (e) => ctx.errors.push(e.message));
});
kb.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.d?.close();
});

/** The focused element: a short description, whether it sits in the terminal, and its focus ring. */
async function focused(page: Page): Promise<{ what: string; inTerminal: boolean; ring: string }> {
  return page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    if (!e || e === document.body) return { what: 'body', inTerminal: false, ring: '' };
    const box = e.closest('#terminal') as HTMLElement | null;
    const s = getComputedStyle(box ?? e);
    const name = e.getAttribute('name') ?? e.id ?? '';
    return { what: `${e.tagName.toLowerCase()}${name ? `[${name}]` : ''}:${(e.textContent ?? '').trim().slice(0, 20)}`, inTerminal: !!box, ring: `${s.outlineStyle} ${s.outlineWidth}` };
  });
}

/**
 * Tab until `match` has the focus (at most `max` presses); every stop must show a ring. Tab in
 * the terminal is the shell's: there, as the page says, F6 moves on.
 */
async function tabTo(page: Page, match: RegExp, max = 60): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press((await focused(page)).inTerminal ? 'F6' : 'Tab');
    const f = await focused(page);
    seen.push(f.what);
    if (!f.inTerminal) assert.is(f.ring, 'solid 3px', `focus ring on ${f.what}`);
    if (match.test(f.what)) return;
  }
  assert.unreachable(`${match} never got the focus; Tab went through ${seen.join(' → ')}`);
}

kb('run, type, leave the terminal, open a change and a layer, commit: keys only, focus always visible', privileged<Ctx>(async (ctx) => {
  const { page } = ctx;
  await page.goto(ctx.link);
  await page.waitForSelector('#images tr >> text=busybox:latest', { timeout: 60000 });
  await tabTo(page, /^button\[refresh\]/, 1);
  await tabTo(page, /^input\[name\]/);
  await page.keyboard.type('keys1');
  await page.keyboard.press('Tab');
  assert.match((await focused(page)).what, /^input\[cmd\]/);
  await page.keyboard.type('sh');
  await page.keyboard.press('Enter');
  await eventually('the prompt', async () => (await screen(page)).some((r) => r.startsWith('/ #')), 60000);
  assert.ok((await focused(page)).inTerminal, 'the new terminal has the focus');
  const ring = await page.$eval('#terminal', (t) => getComputedStyle(t).outlineStyle);
  assert.is(ring, 'solid', 'the focused terminal shows a ring');
  // Tab is the shell's (completion), not the page's
  await page.keyboard.type('echo key > /kk');
  await page.keyboard.press('Enter');
  await page.keyboard.type('ech');
  await page.keyboard.press('Tab');
  await eventually('the shell completed "ech" to "echo"', async () => (await screen(page)).some((r) => /^\/ # echo$/.test(r)), 60000);
  assert.ok((await focused(page)).inTerminal, 'Tab stayed in the terminal');
  await page.keyboard.press('Control+U');
  await eventually('/kk in the change list', async () => (await page.textContent('#changes'))?.includes('A /kk'), 60000);
  await shoot(page, 'keyboard-1280x800.png');

  // F6 leaves the terminal forward, Shift+F6 backward
  await page.keyboard.press('F6');
  let f = await focused(page);
  assert.not.ok(f.inTerminal, `F6 left the terminal (focus on ${f.what})`);
  assert.ok(await page.evaluate(() => !!document.activeElement?.closest('#side')), `F6 went to the side panel: ${f.what}`);
  assert.is(f.ring, 'solid 3px', 'with a ring');
  await page.click('#terminal');
  await page.keyboard.press('Shift+F6');
  f = await focused(page);
  assert.match(f.what, /^button\[tab-term-1\]:keys1: run sh/, 'Shift+F6 went back to the terminal\'s tab');
  assert.is(f.ring, 'solid 3px', 'with a ring');
  await page.keyboard.press('Shift+Tab');
  assert.ok(await page.evaluate(() => !!document.activeElement?.closest('#lists')), 'then Shift+Tab to the lists');

  // a change row opens its diff with Enter
  await page.click('#terminal');
  await page.keyboard.press('F6');
  await tabTo(page, /^button.*:A \/kk/, 10);
  await page.keyboard.press('Enter');
  await eventually('the diff of /kk', async () => (await page.textContent('#change-detail'))?.includes('+key'), 60000);

  // commit by keys: the form's first field, type, Enter
  await tabTo(page, /^input\[reference\]/, 10);
  await page.keyboard.type('keysimg:1');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#commit-result >> text=committed', { timeout: 30000 });

  // the layer explorer: the image's "layers" button, then its top layer's summary toggles with Enter
  await page.setViewportSize({ width: 800, height: 600 });
  await page.focus('#refresh');
  await tabTo(page, /^button:layers/, 10);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#layers details[open]', { timeout: 60000 });
  await tabTo(page, /^summary:/, 80);
  const open = await page.$$eval('#layers details', (d) => d.map((x) => (x as HTMLDetailsElement).open));
  await page.keyboard.press('Enter');
  const after = await page.$$eval('#layers details', (d) => d.map((x) => (x as HTMLDetailsElement).open));
  assert.not.equal(after, open, 'Enter toggles a layer');
  await shoot(page, 'keyboard-800x600.png');
  assert.equal(ctx.errors, [], 'no script errors on the page');
}));

kb.run();
