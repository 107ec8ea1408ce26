/**
 * The browser page (`sbx ui`) in Debian's chromium (headless, playwright-core), against the CLI on
 * the same sbxd: one keystroke's echo through the page's xterm.js terminal vs through
 * `sbx run -it` under a PTY, and page load → first prompt vs `sbx run -it` → first prompt.
 * The echo is timed inside the page, from the key's keydown to the frame xterm rendered it in
 * (and, to see where the time goes, to xterm's buffer and to the WebSocket message).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { side, NotAvailable, type Metric, type Side } from '../harness.js';
import { image, needVerbs, type Fixtures, type Sbxd } from '../fixtures.js';
import { unique } from '../proc.js';
import { keystrokeRoundTrip, timeToPrompt, type PtySession } from '../pty.js';
import { sbxShell } from './container.js';

const CHROMIUM = '/usr/bin/chromium';

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new NotAvailable(`${CHROMIUM} is not installed`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** A one-time login link from `sbx ui` (the listener is started once and reused). */
async function loginLink(d: Sbxd): Promise<string> {
  const r = await d.cli(['ui', '--addr', '127.0.0.1:0']);
  if (r.code !== 0) throw new Error(`sbx ui: ${r.stderr}`);
  return r.stdout.trim();
}

/** Log in, run IMG `sh` from the page's form, wait for the prompt on screen; the container's name. */
async function pageToPrompt(page: Page, link: string, img: string): Promise<string> {
  await page.goto(link);
  const option = `#run-image option[value="${img}"], #run-image option[value="${img}:latest"]`;
  await page.waitForSelector(option, { state: 'attached', timeout: 60_000 });
  await page.selectOption('#run-image', (await page.getAttribute(option, 'value'))!);
  const name = unique('bench-ui');
  await page.fill('#run-form input[name=name]', name);
  await page.fill('#run-form input[name=cmd]', 'sh');
  await page.click('#run-form button[type=submit]');
  await page.waitForFunction(() => {
    const t = (globalThis as unknown as { sbxTerm?: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } }).sbxTerm;
    const b = t?.buffer.active;
    for (let i = 0; b && i < b.length; i++) if (b.getLine(i)?.translateToString(true).startsWith('/ # ')) return true;
    return false;
  }, undefined, { timeout: 60_000, polling: 'raf' });
  return name;
}

/**
 * Where the echo is: 'onRender' the frame that shows it, 'onWriteParsed' the moment xterm's
 * buffer holds it, 'message' the moment its WebSocket message reaches the page (chromium's
 * network path and sbxd, before xterm; the rest is xterm and the browser's frames).
 */
type At = 'onRender' | 'onWriteParsed' | 'message';

/** Median keydown → echo of `n` keys in the page's terminal, in µs (the line is cleared after). */
async function pageKeystrokes(page: Page, at: At, n = 40): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    await page.evaluate(([c, event]) => {
      type Sub = { dispose(): void };
      const g = globalThis as unknown as { sbxEcho?: Promise<number>; sbxSockets: Set<WebSocket>; sbxTerm: Record<'onRender' | 'onWriteParsed', (f: () => void) => Sub> & { buffer: { active: { baseY: number; cursorY: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } };
      g.sbxEcho = new Promise<number>((resolve, reject) => {
        let t0 = 0;
        document.addEventListener('keydown', () => { t0 = performance.now(); }, { capture: true, once: true });
        const done = (): void => { sub.dispose(); resolve(performance.now() - t0); };
        let sub: Sub;
        if (event === 'message') {
          // the echo's frame: channel 1 (stdout), then the character
          const on = (e: MessageEvent): void => { if (t0 && e.data instanceof ArrayBuffer && new Uint8Array(e.data).at(-1) === c.charCodeAt(0)) done(); };
          for (const w of g.sbxSockets) w.addEventListener('message', on);
          sub = { dispose: () => { for (const w of g.sbxSockets) w.removeEventListener('message', on); } };
        } else {
          sub = g.sbxTerm[event](() => {
            const b = g.sbxTerm.buffer.active;
            if (t0 && (b.getLine(b.baseY + b.cursorY)?.translateToString(true) ?? '').endsWith(c)) done();
          });
        }
        setTimeout(() => { sub.dispose(); reject(new Error(`no echo of "${c}" within 10 s`)); }, 10_000);
      });
    }, [ch, at] as const);
    await page.keyboard.press(ch);
    times.push(await page.evaluate(() => (globalThis as unknown as { sbxEcho: Promise<number> }).sbxEcho) * 1000);
  }
  await page.keyboard.press('Control+U');
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

interface World { d: Sbxd; img: string; browser: Browser }

/** The sbxd with busybox, chromium; or why the page cannot be measured here. */
async function world(fx: Fixtures): Promise<World> {
  needVerbs('ui', 'run');
  const d = await fx.sbxd();
  const img = image(d);
  return { d, img, browser: await launch() };
}

/** The echo through the page, to the rendered frame or to xterm's buffer, vs the CLI's. */
const ECHO_AT: Record<At, { id: string; what: string }> = {
  onRender: { id: 'ui.keystroke', what: 'rendered' },
  onWriteParsed: { id: 'ui.keystroke.parsed', what: 'in xterm\'s buffer' },
  message: { id: 'ui.keystroke.message', what: 'its WebSocket message in the page' },
};

function keystrokeMetric(at: At): Metric<Fixtures> {
  return {
    id: ECHO_AT[at].id,
    name: `keystroke echo in the browser terminal (chromium, xterm.js): keydown → ${ECHO_AT[at].what}, median of 40`,
    peer: '`sbx run -it` (CLI, PTY)',
    unit: 'µs',
    async prepare(fx) {
      const closers: (() => Promise<unknown>)[] = [];
      return {
        sbx: await side(async (): Promise<Side> => {
          const w = await world(fx);
          closers.push(() => w.browser.close());
          const page = await w.browser.newPage({ viewport: { width: 1280, height: 800 } });
          const name = await pageToPrompt(page, await loginLink(w.d), w.img);
          closers.push(() => w.d.cli(['rm', '-f', name]));
          await page.click('#terminal');
          return () => pageKeystrokes(page, at);
        }),
        peer: await side(async (): Promise<Side> => {
          needVerbs('run');
          const d = await fx.sbxd();
          const { session } = await timeToPrompt(() => sbxShell(d, image(d)));
          closers.push(() => session.close());
          return () => keystrokeRoundTrip(session);
        }),
        close: async () => { for (const c of closers.reverse()) await c().catch(() => undefined); },
      };
    },
  };
}

export const uiMetrics: Metric<Fixtures>[] = [
  ...(['onRender', 'onWriteParsed', 'message'] as const).map(keystrokeMetric),
  {
    id: 'ui.prompt',
    name: 'page load → first prompt (chromium): open the login link, run busybox `sh` from the form',
    peer: '`sbx run -it --rm busybox sh` (CLI, PTY) → prompt',
    unit: 'ms',
    runs: 3,
    async prepare(fx) {
      const closers: (() => Promise<unknown>)[] = [];
      return {
        sbx: await side(async (): Promise<Side> => {
          const w = await world(fx);
          closers.push(() => w.browser.close());
          return async () => {
            const link = await loginLink(w.d);
            const context = await w.browser.newContext({ viewport: { width: 1280, height: 800 } });
            const page = await context.newPage();
            try {
              const t0 = performance.now();
              const name = await pageToPrompt(page, link, w.img);
              const ms = performance.now() - t0;
              closers.push(() => w.d.cli(['rm', '-f', name]));
              return ms;
            } finally {
              await context.close();
            }
          };
        }),
        peer: await side(async (): Promise<Side> => {
          needVerbs('run');
          const d = await fx.sbxd();
          return async () => {
            const { ms, session } = await timeToPrompt((): PtySession => sbxShell(d, image(d)));
            await session.close();
            return ms;
          };
        }),
        close: async () => { for (const c of closers.reverse()) await c().catch(() => undefined); },
      };
    },
  },
];
