/**
 * podman's own REST API (`podman system service`, libpod endpoints) on a unix socket in the
 * podman temp dir: the peer for the "(API)" rows, so that both sides are driven by one
 * long-running client process without a CLI start per operation.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import type { PodmanWorld } from './fixtures.js';

export interface PodmanApi {
  /** The service's unix socket: libpod paths and docker's compat paths both answer there. */
  socket: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function startPodmanApi(p: PodmanWorld): Promise<PodmanApi> {
  const socket = join(p.dir, 'podman-api.sock');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
    env: { ...process.env, ...p.env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => { log = (log + d).slice(-2000); });
  const call: PodmanApi['call'] = (method, path, body) => new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const r = request({
      socketPath: socket, method, path: `/v4.0.0/libpod${path}`,
      headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(payload);
  });
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await call('GET', '/_ping')).status === 200) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) { await close(); throw new Error(`podman system service did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { socket, call, close };
}

/** Require a 2xx answer; returns the parsed body (or undefined when empty). */
export async function ok2xx(api: PodmanApi, method: string, path: string, body?: unknown): Promise<any> {
  const r = await api.call(method, path, body);
  if (r.status < 200 || r.status >= 300) throw new Error(`podman API ${method} ${path}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  return r.body.trim() ? JSON.parse(r.body) : undefined;
}
