/** Container test helpers: a daemon with a busybox image, the CLI through a pseudo-terminal. */
import { createRequire } from 'node:module';
import type { IPty } from '@lydell/node-pty';
import * as assert from 'uvu/assert';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { SBX_BIN } from './cli.js';
import { busyboxLayer, putImage } from './fixtures.js';

/** A test daemon whose store holds "busybox" (the host's busybox-static, one layer). */
export async function startBusyboxDaemon(root?: string): Promise<TestDaemon> {
  const d = await startTestDaemon(root ? { root } : {});
  const s = d.daemon.services;
  await putImage(s.content, s.images, 'docker.io/library/busybox:latest', [await busyboxLayer()]);
  return d;
}

export interface PtyCli {
  pty: IPty;
  output(): string;
  /** Wait until the output (from `since`) matches. */
  expect(re: RegExp, since?: number, timeoutMs?: number): Promise<void>;
  exit: Promise<number>;
}

const require = createRequire(import.meta.url);

/** Run the real `sbx` CLI with a pseudo-terminal as its stdin/stdout (what a user's shell gives it). */
export function sbxPty(root: string, args: string[], size = { cols: 80, rows: 24 }, env: NodeJS.ProcessEnv = {}): PtyCli {
  return ptyCli(SBX_BIN, args, size, { ...process.env, SBX_ROOT: root, SBX_NO_AUTOSTART: '1', ...env });
}

/** Run `file` with a pseudo-terminal as its stdin/stdout, in exactly `env`. */
export function ptyCli(file: string, args: string[], size: { cols: number; rows: number }, env: NodeJS.ProcessEnv): PtyCli {
  const pty = require('@lydell/node-pty') as typeof import('@lydell/node-pty');
  const p = pty.spawn(file, args, { name: 'xterm', ...size, env: env as Record<string, string> });
  let out = '';
  p.onData((d) => { out += d; });
  const exit = new Promise<number>((r) => p.onExit((e) => r(e.exitCode)));
  return {
    pty: p,
    output: () => out,
    async expect(re, since = 0, timeoutMs = 10000) {
      const t = Date.now() + timeoutMs;
      while (!re.test(out.slice(since)) && Date.now() < t) await new Promise((r) => setTimeout(r, 10));
      assert.match(out.slice(since), re, `terminal output: ${JSON.stringify(out)}`);
    },
    exit,
  };
}
