/**
 * Which runtime runs this CLI, and how it reaches what must run on Node. The `sbx` users get is a
 * single binary compiled by Bun (scripts/build-cli.sh → dist/cli/sbx: it starts in a few ms of CPU
 * where Node needs ~75 ms); `node dist/cli/main.js` is the same CLI under Node. The daemon and
 * the in-process registry always run on Node: under Bun, `sbx daemon`, `sbx registry serve` and
 * autostart start Node on the Node entry, found beside the binary.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const Bun: { version: string } | undefined;

/** True inside the Bun-compiled binary (or any Bun). */
export const ON_BUN = typeof Bun !== 'undefined';

/** "bun 1.4.5" or "node v20.20.2": what `sbx version` shows. */
export const RUNTIME = ON_BUN ? `bun ${Bun!.version}` : `node ${process.version}`;

/** dist/cli: the folder of main.js, or of the compiled binary (its import.meta.url is virtual). */
export function cliDir(): string {
  return ON_BUN ? dirname(process.execPath) : dirname(fileURLToPath(import.meta.url));
}

/** The Node that runs sbxd: this process's under Node; under Bun $SBX_NODE or `node` on the PATH. */
export function nodeBin(env: NodeJS.ProcessEnv = process.env): string {
  return ON_BUN ? env.SBX_NODE || 'node' : process.execPath;
}

/** The V8 flags sbxd runs with: the list in daemon/node-flags.ts (the CLI never imports daemon code). */
export const SBXD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-sparkplug', '--expose-gc'];

/** The environment sbxd starts with: SBXD_ENV in daemon/node-flags.ts. */
export const SBXD_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

/** dist/daemon/main.js. */
export function daemonMain(): string {
  return join(cliDir(), '..', 'daemon', 'main.js');
}

/**
 * Run this same command line under Node (`node dist/cli/main.js ARGV`) in the foreground: stdio
 * shared, SIGINT/SIGTERM/SIGHUP passed on, its exit status returned (128+N when a signal ended it).
 */
export function runOnNode(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBin(), [...SBXD_NODE_FLAGS, join(cliDir(), 'main.js'), ...argv], { stdio: 'inherit', env: { ...process.env, ...SBXD_ENV, SBX_PARENT_PID: String(process.pid) } });
    const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const pass = (s: NodeJS.Signals): void => { child.kill(s); };
    for (const s of sigs) process.on(s, pass);
    child.on('error', (e) => reject(new Error(`start ${nodeBin()}: ${e.message} (sbxd runs on Node; set SBX_NODE to its path)`)));
    child.on('exit', (code, signal) => {
      for (const s of sigs) process.off(s, pass);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

