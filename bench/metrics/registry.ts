/**
 * Registries: push and pull of a 100 MB image (sbx vs skopeo copy, both against Debian's
 * docker-registry), and the embedded registry (`sbx registry serve`) serving blobs and small
 * requests (vs docker-registry, both loaded with wrk for a bounded time).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SBX_BIN } from '../../test/_helpers/cli.js';
import { freePort, startDockerRegistry, type Registry } from '../../test/_helpers/peers.js';
import { rmrf, tmpdir } from '../../test/_helpers/tmp.js';
import { side, type Metric } from '../harness.js';
import { needTools, needVerbs, startSbxd, type Fixtures } from '../fixtures.js';
import { ok, run, timed } from '../proc.js';

const BIG_MB = 100;
const REPO = 'bench/big';

/** A tar holding one file of BIG_MB random (incompressible) megabytes; made once per run. */
function bigTar(fx: Fixtures): Promise<string> {
  return fx.once('big-tar', async () => {
    const dir = await tmpdir('sbx-bench-big-');
    await mkdir(join(dir, 'root'));
    await writeFile(join(dir, 'root', 'blob.bin'), randomBytes(BIG_MB * 1e6));
    await ok('tar', run('tar', ['-C', join(dir, 'root'), '--numeric-owner', '-cf', join(dir, 'big.tar'), '.']));
    await rmrf(join(dir, 'root'));
    return join(dir, 'big.tar');
  }, async (tar) => rmrf(join(tar, '..')));
}

/** Put the 100 MB image into `reg` as bench/big:v1 (podman import + push; untimed). */
async function seed(fx: Fixtures, reg: Registry): Promise<string> {
  const p = await fx.podman();
  const ref = `${reg.host}/${REPO}:v1`;
  await ok('podman import', p.podman(['import', await bigTar(fx), ref], { timeoutMs: 300_000 }));
  await ok('podman push', p.podman(['push', '--tls-verify=false', ref, `docker://${ref}`], { timeoutMs: 300_000 }));
  await p.podman(['rmi', '-f', ref]);
  return ref;
}

// ---------------------------------------------------------------------------------------------
// wrk against a registry

interface Wrk { reqPerSec: number; mbPerSec: number }

async function wrk(url: string, opts: { connections: number; seconds: number; headers?: string[] }): Promise<Wrk> {
  const args = ['-t', '2', '-c', String(opts.connections), '-d', `${opts.seconds}s`, ...(opts.headers ?? []).flatMap((h) => ['-H', h]), url];
  const out = (await ok('wrk', run('wrk', args, { timeoutMs: (opts.seconds + 30) * 1000 }))).stdout;
  const bad = out.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  if (bad) throw new Error(`wrk: ${bad[1]} responses were errors`);
  const rps = out.match(/Requests\/sec:\s+([\d.]+)/);
  const tps = out.match(/Transfer\/sec:\s+([\d.]+)([KMG]?B)/);
  if (!rps || !tps) throw new Error(`wrk: cannot read its output: ${out.slice(-300)}`);
  const scale: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
  return { reqPerSec: Number(rps[1]), mbPerSec: (Number(tps[1]) * scale[tps[2]!]!) / 1e6 };
}

/** Upload a blob through the distribution API (POST + monolithic PUT), as any client would. */
async function putBlob(base: string, repo: string, data: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`start upload to ${base}: HTTP ${start.status}`);
  const loc = new URL(start.headers.get('location') ?? '', base);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' } });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`upload blob to ${base}: HTTP ${put.status}`);
  return digest;
}

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** A blob of `mb` MB and a manifest (tag v1) naming it, in `repo`; returns the blob digest. */
async function seedBlob(base: string, mb: number): Promise<string> {
  const blob = randomBytes(mb * 1e6);
  const digest = await putBlob(base, 'bench/blob', blob);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest] } }));
  const configDigest = await putBlob(base, 'bench/blob', config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: blob.length }],
  }));
  const r = await fetch(`${base}/v2/bench/blob/manifests/v1`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'content-type': MANIFEST_TYPE } });
  await r.arrayBuffer();
  if (r.status !== 201) throw new Error(`put manifest to ${base}: HTTP ${r.status}`);
  return digest;
}

/** `sbx registry serve` as its own process on a free loopback port and a temp root. */
async function startEmbeddedRegistry(): Promise<{ base: string; close(): Promise<void> }> {
  const root = await tmpdir('sbx-bench-registry-');
  const host = `127.0.0.1:${await freePort()}`;
  const child = spawn(SBX_BIN, ['registry', 'serve', '--addr', host, '--root', root, '--log-level', 'error'], {
    env: { ...process.env, SBX_ROOT: root }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => { log = (log + d).slice(-2000); });
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await rmrf(root);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const r = await fetch(`http://${host}/v2/`);
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) { await close(); throw new Error(`sbx registry serve did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base: `http://${host}`, close };
}

function registryLoadMetric(id: string, name: string, unit: 'MB/s' | 'req/s', blobMb: number,
  load: (base: string, digest: string) => Promise<Wrk>): Metric<Fixtures> {
  return {
    id, name, unit,
    peer: 'docker-registry 2.8 (same wrk load)',
    runs: 3,
    async prepare() {
      const closers: (() => Promise<void>)[] = [];
      const make = (start: () => Promise<{ base: string; close(): Promise<void> }>) => side(async () => {
        await needTools('wrk');
        const srv = await start();
        closers.push(() => srv.close());
        const digest = await seedBlob(srv.base, blobMb);
        return async () => { const w = await load(srv.base, digest); return unit === 'MB/s' ? w.mbPerSec : w.reqPerSec; };
      });
      return {
        sbx: await make(async () => { needVerbs('registry'); return startEmbeddedRegistry(); }),
        peer: await make(async () => {
          await needTools('docker-registry');
          const r = await startDockerRegistry();
          return { base: `http://${r.host}`, close: () => r.close() };
        }),
        close: async () => { for (const c of closers) await c(); },
      };
    },
  };
}

export const registryMetrics: Metric<Fixtures>[] = [
  {
    id: 'registry.push.cli',
    name: `push ${BIG_MB} MB image to docker-registry (CLI): \`sbx push\``,
    peer: '`skopeo copy oci:<sbx store> docker://`',
    unit: 'ms',
    runs: 3,
    timeoutMs: 300_000,
    async prepare(fx) {
      needVerbs('pull', 'push');
      await needTools('skopeo', 'docker-registry');
      // Every sample pushes into an empty registry on the same port, so the image keeps its name.
      const port = await freePort();
      const seedReg = await startDockerRegistry({ port });
      let ref: string;
      const d = await fx.sbxd();
      try {
        ref = await seed(fx, seedReg);
        await ok('sbx pull', d.cli(['pull', '-q', ref], { timeoutMs: 300_000 }));
      } finally {
        await seedReg.close();
      }
      const fresh = async (push: () => Promise<number>): Promise<number> => {
        const reg = await startDockerRegistry({ port });
        try { return await push(); } finally { await reg.close(); }
      };
      return {
        sbx: () => fresh(() => timed('sbx push', () => d.cli(['push', '-q', ref], { timeoutMs: 300_000 }))),
        peer: () => fresh(() => timed('skopeo copy', () => run('skopeo', ['copy', '-q', '--dest-tls-verify=false',
          `oci:${join(d.root, 'oci')}:${ref}`, `docker://${ref}`], { timeoutMs: 300_000 }))),
      };
    },
  },
  {
    id: 'registry.pull.cli',
    name: `pull ${BIG_MB} MB image from docker-registry (CLI): \`sbx pull\` into an empty store`,
    peer: '`skopeo copy docker:// oci:<empty dir>`',
    unit: 'ms',
    runs: 3,
    timeoutMs: 300_000,
    async prepare(fx) {
      await needTools('skopeo', 'docker-registry');
      const reg = await startDockerRegistry();
      const closers: (() => Promise<void>)[] = [() => reg.close()];
      try {
        const ref = await seed(fx, reg);
        return {
          sbx: await side(async () => {
            needVerbs('pull');
            return async () => {
              const d = await startSbxd(fx, { importBusybox: false });
              try { return await timed('sbx pull', () => d.cli(['pull', '-q', ref], { timeoutMs: 300_000 })); } finally { await d.close(); }
            };
          }),
          peer: async () => {
            const dir = await tmpdir('sbx-bench-skopeo-');
            try {
              return await timed('skopeo copy', () => run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'oci')}:v1`], { timeoutMs: 300_000 }));
            } finally { await rmrf(dir); }
          },
          close: async () => { for (const c of closers) await c(); },
        };
      } catch (e) {
        await reg.close();
        throw e;
      }
    },
  },
  registryLoadMetric('registry.blob', 'embedded registry: GET of a 32 MB blob (wrk, 2 connections, 3 s)', 'MB/s', 32,
    (base, digest) => wrk(`${base}/v2/bench/blob/blobs/${digest}`, { connections: 2, seconds: 3 })),
  registryLoadMetric('registry.small', 'embedded registry: small requests, GET manifest by tag (wrk, 8 connections, 3 s)', 'req/s', 1,
    (base) => wrk(`${base}/v2/bench/blob/manifests/v1`, { connections: 8, seconds: 3, headers: [`Accept: ${MANIFEST_TYPE}`] })),
];
