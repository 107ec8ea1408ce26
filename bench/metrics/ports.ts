/**
 * A published port: requests/s to busybox httpd in a container through `sbx run -p` (the daemon
 * listens on the host port and forwards into the container's network namespace) vs the same
 * busybox httpd serving the same file straight on the host (no forwarding: the ceiling).
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../test/_helpers/peers.js';
import { rmrf, tmpdir } from '../../test/_helpers/tmp.js';
import { side, type Metric } from '../harness.js';
import { image, needFlag, needTools, needVerbs, type Fixtures } from '../fixtures.js';
import { ok, run, unique } from '../proc.js';

const PAGE = 'x'.repeat(1024);

async function wrkRate(url: string): Promise<number> {
  const out = (await ok('wrk', run('wrk', ['-t', '2', '-c', '8', '-d', '3s', url], { timeoutMs: 60_000 }))).stdout;
  const bad = out.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  if (bad) throw new Error(`wrk: ${bad[1]} responses were errors`);
  const m = out.match(/Requests\/sec:\s+([\d.]+)/);
  if (!m) throw new Error(`wrk: cannot read its output: ${out.slice(-300)}`);
  return Number(m[1]);
}

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try { const r = await fetch(url); await r.arrayBuffer(); if (r.ok) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
      const sbx = await side(async () => {
        needVerbs('run', 'rm');
        await needFlag('run', 'publish');
        await needTools('wrk');
        const d = await fx.sbxd();
        const port = await freePort();
        const name = unique('bench-port');
        await ok('sbx run -d -p', d.cli(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, image(d), 'sh', '-c',
          `mkdir -p /www && printf '${PAGE}' > /www/index.html && exec httpd -f -p 8080 -h /www`]));
        closers.push(() => d.cli(['rm', '-f', name]));
        const url = `http://127.0.0.1:${port}/index.html`;
        await ready(url);
        return () => wrkRate(url);
      });
      const peer = await side(async () => {
        await needTools('wrk', 'busybox');
        const dir = await tmpdir('sbx-bench-www-');
        closers.push(() => rmrf(dir));
        await mkdir(join(dir, 'www'));
        await writeFile(join(dir, 'www', 'index.html'), PAGE);
        const port = await freePort();
        const httpd = spawn('busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', join(dir, 'www')], { stdio: 'ignore' });
        closers.unshift(async () => { httpd.kill('SIGTERM'); });
        const url = `http://127.0.0.1:${port}/index.html`;
        await ready(url);
        return () => wrkRate(url);
      });
      return { sbx, peer, close: async () => { for (const c of closers) await c(); } };
    },
  },
];
