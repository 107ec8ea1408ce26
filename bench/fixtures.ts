/**
 * What the benchmarks run against, built once per run and torn down at its end: a busybox root
 * filesystem, podman (with that busybox imported) under a temp dir, and sbxd as its own process
 * on a temp root (with busybox imported by `sbx import --busybox`, once that verb exists).
 * Everything lives under temp dirs; servers listen on 127.0.0.1 or unix sockets only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../cli/client.js';
import { COMMANDS } from '../cli/commands/index.js';
import { SBXD_ENV, SBXD_NODE_FLAGS } from '../daemon/node-flags.js';
import { Containers } from '../protocol/index.js';
import { SBX_BIN } from '../test/_helpers/cli.js';
import { have, must, run, startPodman, type Podman, type RunResult } from '../test/_helpers/peers.js';
import { rmrf, tmpdir } from '../test/_helpers/tmp.js';
import { NotAvailable, oneLine } from './harness.js';

export const PODMAN_BUSYBOX = 'localhost/busybox:latest';
export const SBX_BUSYBOX = 'busybox';

/** One running sbxd on its own root, driven both through the CLI and through the client. */
export interface Sbxd {
  root: string;
  pid: number;
  client: Client;
  env: NodeJS.ProcessEnv;
  /** Run the built CLI against this daemon. */
  cli(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** The busybox image name, or why there is none yet. */
  busybox: string | NotAvailable;
  close(): Promise<void>;
}

export interface PodmanWorld extends Podman {
  image: string;
}

/** Does the sbx CLI have this verb yet? */
export function hasVerb(verb: string): boolean {
  return Object.prototype.hasOwnProperty.call(COMMANDS, verb);
}

/** Throw NotAvailable unless every verb exists. */
export function needVerbs(...verbs: string[]): void {
  const missing = verbs.filter((v) => !hasVerb(v));
  if (missing.length) throw new NotAvailable(`sbx ${missing.join(', ')} not implemented yet`);
}

/** Throw NotAvailable unless `sbx VERB` takes --FLAG. */
export async function needFlag(verb: string, flag: string): Promise<void> {
  needVerbs(verb);
  const { command } = await COMMANDS[verb]!();
  if (!Object.prototype.hasOwnProperty.call(command.options, flag)) throw new NotAvailable(`sbx ${verb} --${flag} not implemented yet`);
}

export async function needTools(...tools: string[]): Promise<void> {
  for (const t of tools) if (!(await have(t))) throw new NotAvailable(`${t} is not installed`);
}

export class Fixtures {
  private readonly made = new Map<string, Promise<unknown>>();
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(readonly log: (line: string) => void) {}

  /** Build `make` once per run; `close` joins the end-of-run teardown. */
  once<T>(key: string, make: () => Promise<T>, close?: (t: T) => Promise<void>): Promise<T> {
    let p = this.made.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make().then((t) => { if (close) this.closers.push(() => close(t)); return t; });
      this.made.set(key, p);
    }
    return p;
  }

  /** Register a teardown for something made outside `once`. */
  defer(close: () => Promise<void>): void { this.closers.push(close); }

  async closeAll(): Promise<void> {
    for (const c of this.closers.reverse()) await c().catch((e) => this.log(`teardown failed: ${oneLine(e)}`));
    this.closers.length = 0;
    this.made.clear();
  }

  /** A tar of a busybox root filesystem (static busybox + applet links + passwd/group). */
  busyboxTar(): Promise<string> {
    return this.once('busybox-tar', async () => {
      await needTools('busybox', 'tar');
      const dir = await tmpdir('sbx-bench-busybox-');
      const root = join(dir, 'rootfs');
      for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'proc', 'sys', 'dev']) {
        await mkdir(join(root, d), { recursive: true });
      }
      await chmod(join(root, 'tmp'), 0o1777);
      const bb = (await must('sh', ['-c', 'command -v busybox'])).trim();
      await copyFile(bb, join(root, 'bin', 'busybox'));
      await chmod(join(root, 'bin', 'busybox'), 0o755);
      for (const applet of (await must(bb, ['--list-full'])).split('\n').filter(Boolean)) {
        if (applet === 'bin/busybox') continue;
        await symlink('/bin/busybox', join(root, applet)).catch(() => undefined);
      }
      await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      await writeFile(join(root, 'etc', 'group'), 'root:x:0:\n');
      const tar = join(dir, 'busybox.tar');
      await must('tar', ['-C', root, '--numeric-owner', '-cf', tar, '.']);
      return tar;
    }, async (tar) => rmrf(join(tar, '..')));
  }

  /** podman under a temp dir with the busybox tar imported as localhost/busybox:latest. */
  podman(): Promise<PodmanWorld> {
    return this.once('podman', async () => {
      await needTools('podman', 'runc');
      const tar = await this.busyboxTar();
      const p = await startPodman();
      try {
        const r = await p.podman(['import', '--change', 'CMD ["/bin/sh"]', tar, PODMAN_BUSYBOX]);
        if (r.code !== 0) throw new Error(`podman import: ${r.stderr}`);
        return { ...p, image: PODMAN_BUSYBOX };
      } catch (e) {
        await p.close();
        throw e;
      }
    }, (p) => p.close());
  }

  /** The run-wide sbxd with busybox imported. */
  sbxd(): Promise<Sbxd> {
    return this.once('sbxd', async () => {
      const d = await startSbxd(this);
      this.log(`  sbxd pid ${d.pid} on ${d.root}${d.busybox instanceof NotAvailable ? ` (${d.busybox.message})` : ''}`);
      return d;
    }, (d) => d.close());
  }
}

/** Start sbxd as its own process (as the `sbxd` binary would: with its V8 flags) on a fresh temp root. */
export async function startSbxd(_fx: Fixtures, opts: { importBusybox?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Sbxd> {
  const root = await tmpdir('sbx-bench-root-');
  const env: NodeJS.ProcessEnv = { ...process.env, ...SBXD_ENV, SBX_ROOT: root, SBX_NO_AUTOSTART: '1', SBX_LOG_LEVEL: 'warn', ...opts.env };
  const daemonMain = join(SBX_BIN, '..', '..', 'daemon', 'main.js');
  const child: ChildProcess = spawn(process.execPath, [...SBXD_NODE_FLAGS, daemonMain], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d).slice(-4000); });
  const client = new Client({ root, socket: join(root, 'sbx.sock') });
  const stop = async (): Promise<void> => {
    // Containers may outlive sbxd (it recovers them on restart): remove whatever a metric left.
    const left = await client.call(Containers.list, { all: true }).catch(() => []);
    for (const c of left) await client.call(Containers.remove, { id: c.id, force: true }).catch(() => undefined);
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(t);
    }
    // Containers the daemon could not stop must not keep the root busy.
    await run('sh', ['-c', `grep -o ' ${root}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
    await rmrf(root);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try { await client.ensureDaemon(); break; } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`sbxd did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const cli: Sbxd['cli'] = (args, o = {}) => run(SBX_BIN, args, { env, ...o });
  let busybox: string | NotAvailable = new NotAvailable('sbx import --busybox not implemented yet');
  if (opts.importBusybox !== false && hasVerb('import')) {
    const r = await cli(['import', '--busybox', SBX_BUSYBOX], { timeoutMs: 120_000 });
    busybox = r.code === 0 ? SBX_BUSYBOX : new NotAvailable(`sbx import --busybox failed: ${oneLine(r.stderr || r.stdout)}`);
  }
  return { root, pid: child.pid!, client, env, cli, busybox, close: stop };
}

/** The busybox image of this daemon, or NotAvailable. */
export function image(d: Sbxd): string {
  if (d.busybox instanceof NotAvailable) throw d.busybox;
  return d.busybox;
}
