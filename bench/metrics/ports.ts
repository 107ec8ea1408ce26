/**
 * A published port: requests/s to busybox httpd in a container through `sbx run -p` (the daemon
 * listens on the host port and forwards into the container's network namespace) vs the same
 * busybox httpd serving the same file straight on the host (no forwarding: the ceiling), and vs
 * podman's `-p` on its user-mode network (slirp4netns + rootlessport: podman's port path that
 * leaves the host's iptables alone, as sbx's does; its default bridge adds iptables DNAT rules to
 * the host, which no bench here may do).
 * The helpers serve the network metrics (networks.ts) too.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/_helpers/peers.js';
import { rmrf, tmpdir } from '../../test/_helpers/tmp.js';
import { side, type Metric } from '../harness.js';
import { image, needFlag, needTools, needVerbs, type Fixtures } from '../fixtures.js';
import { ok, run, unique } from '../proc.js';

const PAGE = 'x'.repeat(1024);
/** The container's command: busybox httpd serving PAGE as /index.html on port 8080. */
export const SERVE = ['sh', '-c', `mkdir -p /www && printf '${PAGE}' > /www/index.html && exec httpd -f -p 8080 -h /www`];

/** `nsenter -n -t PID` before cmd: run the host's binary in that process's network namespace. */
function inNetns(pid: number | undefined, cmd: string[]): [string, string[]] {
  return pid ? ['nsenter', ['-n', '-t', String(pid), ...cmd]] : [cmd[0]!, cmd.slice(1)];
}

/**
 * wrk, 8 connections for 3 s, from the host or from the network namespace of `netnsOf`; answered
 * requests/s. A socket error (a reset or refused connection) fails the sample unless allowed.
 */
export async function wrkRate(url: string, netnsOf?: number, opts: { allowSocketErrors?: boolean } = {}): Promise<number> {
  const [cmd, args] = inNetns(netnsOf, ['wrk', '-t', '2', '-c', '8', '-d', '3s', url]);
  const out = (await ok('wrk', run(cmd, args, { timeoutMs: 60_000 }))).stdout;
  const bad = out.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  if (bad) throw new Error(`wrk: ${bad[1]} responses were errors`);
  const errs = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  if (errs && !opts.allowSocketErrors && errs.slice(1).some((n) => Number(n) > 0)) throw new Error(`wrk: ${errs[0]}`);
  const m = out.match(/Requests\/sec:\s+([\d.]+)/);
  if (!m) throw new Error(`wrk: cannot read its output: ${out.slice(-300)}`);
  return Number(m[1]);
}

/** Wait until url answers 200, from the host or from the network namespace of `netnsOf`. */
export async function ready(url: string, netnsOf?: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  const [cmd, args] = inNetns(netnsOf, ['busybox', 'wget', '-q', '-O', '/dev/null', url]);
  for (;;) {
    if (netnsOf) {
      if ((await run(cmd, args, { timeoutMs: 5_000 })).code === 0) return;
    } else {
      try { const r = await fetch(url); await r.arrayBuffer(); if (r.ok) return; } catch { /* not yet */ }
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** busybox httpd serving PAGE on the host's 127.0.0.1 (a free port); undone by a closer. */
export async function hostHttpd(closers: (() => Promise<unknown>)[]): Promise<number> {
  await needTools('wrk', 'busybox');
  const dir = await tmpdir('sbx-bench-www-');
  closers.push(() => rmrf(dir));
  await mkdir(join(dir, 'www'));
  await writeFile(join(dir, 'www', 'index.html'), PAGE);
  const port = await freePort();
  const httpd = spawn('busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', join(dir, 'www')], { stdio: 'ignore' });
  closers.unshift(async () => { httpd.kill('SIGTERM'); });
  await ready(`http://127.0.0.1:${port}/index.html`);
  return port;
}

/** The PID of a running podman container (its network namespace is what wrk enters). */
export async function podmanPid(p: { podman(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> }, name: string): Promise<number> {
  const r = await ok('podman inspect', p.podman(['inspect', '-f', '{{.State.Pid}}', name]));
  return Number(r.stdout.trim());
}

/** sbx's side of ports.rps*: httpd in a container behind `sbx run -p`; the URL to load. */
async function sbxPublished(fx: Fixtures, closers: (() => Promise<unknown>)[]): Promise<string> {
  needVerbs('run', 'rm');
  await needFlag('run', 'publish');
  await needTools('wrk');
  const d = await fx.sbxd();
  const port = await freePort();
  const name = unique('bench-port');
  await ok('sbx run -d -p', d.cli(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, image(d), ...SERVE]));
  closers.push(() => d.cli(['rm', '-f', name]));
  const url = `http://127.0.0.1:${port}/index.html`;
  await ready(url);
  return url;
}

/**
 * The tests' static probe (`probe http PORT [ADDR]`: one process answering each connection with a
 * 1 KiB page, no fork). busybox httpd forks a child per request, and where fork is dear (a VM with
 * shadow page tables: ~1.3 ms of fork+exit, most of it outside the guest's CPU time) the fork is
 * the whole row and the relay's cost disappears under it; this server leaves the relay in view.
 */
const PROBE_DIR = fileURLToPath(new URL('../../test/probe/', import.meta.url));

async function probeServer(fx: Fixtures, closers: (() => Promise<unknown>)[]): Promise<string> {
  needVerbs('run', 'rm');
  await needFlag('run', 'publish');
  await needTools('wrk');
  const d = await fx.sbxd();
  const port = await freePort();
  const name = unique('bench-port');
  await ok('sbx run -d -p', d.cli(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, '-v', `${PROBE_DIR}:/probe:ro`, image(d), '/probe/probe', 'http', '8080']));
  closers.push(() => d.cli(['rm', '-f', name]));
  const url = `http://127.0.0.1:${port}/`;
  await ready(url);
  return url;
}

async function hostProbeServer(closers: (() => Promise<unknown>)[]): Promise<string> {
  await needTools('wrk');
  const port = await freePort();
  const srv = spawn(join(PROBE_DIR, 'probe'), ['http', String(port), '127.0.0.1'], { stdio: 'ignore' });
  closers.unshift(async () => { srv.kill('SIGTERM'); });
  const url = `http://127.0.0.1:${port}/`;
  await ready(url);
  return url;
}

export const portMetrics: Metric<Fixtures>[] = [
  {
    id: 'ports.rps',
    name: 'published port: busybox httpd, 1 KiB page (wrk, 8 connections, 3 s) through `sbx run -p`',
    peer: 'the same httpd on the host (direct)',
    unit: 'req/s',
    runs: 3,
    async prepare(fx) {
      const closers: (() => Promise<unknown>)[] = [];
      const sbx = await side(async () => { const url = await sbxPublished(fx, closers); return () => wrkRate(url); });
      const peer = await side(async () => { const port = await hostHttpd(closers); return () => wrkRate(`http://127.0.0.1:${port}/index.html`); });
      return { sbx, peer, close: async () => { for (const c of closers) await c(); } };
    },
  },
  {
    id: 'ports.rps.nofork',
    name: 'published port, the relay in view: a one-process server (probe http, no fork per request), 1 KiB page (wrk, 8 connections, 3 s) through `sbx run -p`',
    peer: 'the same server on the host (direct)',
    unit: 'req/s',
    runs: 3,
    async prepare(fx) {
      const closers: (() => Promise<unknown>)[] = [];
      const sbx = await side(async () => { const url = await probeServer(fx, closers); return () => wrkRate(url); });
      const peer = await side(async () => { const url = await hostProbeServer(closers); return () => wrkRate(url); });
      return { sbx, peer, close: async () => { for (const c of closers) await c(); } };
    },
  },
  {
    id: 'ports.rps.podman',
    name: 'published port: busybox httpd, 1 KiB page (wrk, 8 connections, 3 s) through `sbx run -p`',
    peer: '`podman run -p` (slirp4netns network, rootlessport)',
    unit: 'req/s',
    runs: 3,
    async prepare(fx) {
      const closers: (() => Promise<unknown>)[] = [];
      const sbx = await side(async () => { const url = await sbxPublished(fx, closers); return () => wrkRate(url); });
      const peer = await side(async () => {
        await needTools('wrk', 'slirp4netns');
        const p = await fx.podman();
        const port = await freePort();
        const name = unique('bench-port');
        await ok('podman run -d -p', p.podman(['run', '-d', '--name', name, '--network', 'slirp4netns', '-p', `127.0.0.1:${port}:8080`, p.image, ...SERVE]));
        closers.push(() => p.podman(['rm', '-f', '-t', '0', name]));
        const url = `http://127.0.0.1:${port}/index.html`;
        await ready(url);
        return () => wrkRate(url);
      });
      return { sbx, peer, close: async () => { for (const c of closers) await c(); } };
    },
  },
];
