/**
 * The page's tests in a real browser: Debian's chromium, headless, through playwright-core (no
 * browser download), and readers for what a person would see (the terminal's screen and buffer).
 * Screenshots go to test-artifacts/ui/ (or $SBX_TEST_ARTIFACTS/ui) and are listed in the output.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as assert from 'uvu/assert';

export const CHROMIUM = '/usr/bin/chromium';
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ARTIFACTS = process.env.SBX_TEST_ARTIFACTS ? join(process.env.SBX_TEST_ARTIFACTS, 'ui') : join(repo, 'test-artifacts', 'ui');

/** `extraArgs`: e.g. --ignore-certificate-errors, for a test's own self-signed certificate. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh (Debian's chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', ...extraArgs] });
}

/** The screen of the terminal on show (or of the pane `pane`, e.g. 'term-2'), one string per row, trailing blanks trimmed. */
export async function screen(page: Page, pane?: string): Promise<string[]> {
  return page.$$eval(`#terminal ${pane ? `#${pane}` : '.term-pane:not([hidden])'} .xterm-rows > div`, (rows) => rows.map((r) => (r.textContent ?? '').replace(/\s+$/, '')));
}

/**
 * Every line a terminal holds (scrollback too), through xterm's buffer: the current terminal's
 * (window.sbxTerm), or that of the pane `pane` (window.sbxTerms[pane]), shown or not.
 */
export async function allLines(page: Page, pane?: string): Promise<string[]> {
  return page.evaluate((id) => {
    type Term = { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } };
    const g = globalThis as unknown as { sbxTerm: Term; sbxTerms: Record<string, { term: Term }> };
    const t = id ? g.sbxTerms[id]!.term : g.sbxTerm;
    const b = t.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
    return out;
  }, pane);
}

/** A screenshot kept as a test artifact; its path is printed. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, name);
  await page.screenshot({ path: file });
  process.stdout.write(`  artifact: ${file}\n`);
}
