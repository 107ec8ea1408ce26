/**
 * The real peers, configured as ../shared/reference/peers.md says works on this machine kind:
 * podman/buildah with runc, cgroupfs, ulimits within the host's hard limits and all state under a
 * temp dir; Debian's docker-registry on a free loopback port, with or without htpasswd.
 * Interop tests require these tools; under CI=true a missing tool fails the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as assert from 'uvu/assert';
import { REQUIRE_ROOT } from './root.js';
import { rmrf, tmpdir } from './tmp.js';

const pexec = promisify(execFile);

export interface RunResult { code: number; stdout: string; stderr: string }

export async function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
    child.stdin.end(opts.input);
  });
}

/** Run and require exit 0; the error names the command and its stderr. */
export async function must(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export async function have(tool: string): Promise<boolean> {
  try { await pexec('sh', ['-c', `command -v ${tool}`]); return true; } catch { return false; }
}

/** Fail (CI) or report a skip (elsewhere) when a peer tool is missing; returns true when usable. */
export async function requireTools(...tools: string[]): Promise<boolean> {
  for (const t of tools) {
    if (await have(t)) continue;
    if (REQUIRE_ROOT) assert.unreachable(`interop test needs ${t}; install it (scripts/setup.sh does)`);
    process.stdout.write(`  (skipped: ${t} not installed)\n`);
    return false;
  }
  if (process.getuid?.() !== 0) {
    if (REQUIRE_ROOT) assert.unreachable('interop tests need root');
    process.stdout.write('  (skipped: not root)\n');
    return false;
  }
  return true;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// podman / buildah / skopeo with all state under one temp dir

export interface Podman {
  dir: string;
  env: NodeJS.ProcessEnv;
  podman(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  close(): Promise<void>;
}

export async function startPodman(registries: string[] = []): Promise<Podman> {
  const dir = await tmpdir('sbx-podman-');
  for (const d of ['conf', 'tmp', 'networks', 'root', 'run']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'conf', 'containers.conf'), [
    '[containers]',
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    'netns = "none"',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `tmp_dir = "${join(dir, 'tmp')}"`,
    '[network]',
    `network_config_dir = "${join(dir, 'networks')}"`,
    '',
  ].join('\n'));
  await writeFile(join(dir, 'conf', 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${join(dir, 'root')}"\nrunroot = "${join(dir, 'run')}"\n`);
  await writeFile(join(dir, 'conf', 'registries.conf'), ['unqualified-search-registries = []',
    ...registries.flatMap((r) => ['[[registry]]', `location = "${r}"`, 'insecure = true']), ''].join('\n'));
  await writeFile(join(dir, 'auth.json'), '{"auths":{}}\n');
  const env: NodeJS.ProcessEnv = {
    CONTAINERS_CONF: join(dir, 'conf', 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'conf', 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'conf', 'registries.conf'),
    REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
  };
  return {
    dir,
    env,
    podman: (args, opts = {}) => run('podman', args, { ...opts, env }),
    async close() {
      await run('podman', ['rm', '-af'], { env }).catch(() => undefined);
      await run('umount', ['-R', join(dir, 'root', 'overlay')]).catch(() => undefined);
      await run('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
      await rmrf(dir);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Debian's docker-registry on a free loopback port

export interface Registry {
  /** "127.0.0.1:PORT" */
  host: string;
  dir: string;
  user?: string;
  password?: string;
  close(): Promise<void>;
}

/** `port`: a fixed port (to restart an empty registry under the same name); default a free one. */
export async function startDockerRegistry(opts: { auth?: boolean; port?: number } = {}): Promise<Registry> {
  const dir = await tmpdir('sbx-registry-');
  const port = opts.port ?? await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    'version: 0.1',
    'log:', '  level: error',
    'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true',
    'http:', `  addr: ${host}`, '  secret: sbx-test-secret',
  ];
  const user = 'sbxuser';
  const password = 'sbxpass';
  if (opts.auth) {
    const ht = await must('htpasswd', ['-Bbn', user, password]);
    await writeFile(join(dir, 'htpasswd'), ht);
    lines.push('auth:', '  htpasswd:', '    realm: sbx-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  await writeFile(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const env = { ...process.env };
  delete env.REGISTRY_AUTH_FILE;
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log += d; });
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry on ${host} did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host, dir,
    ...(opts.auth ? { user, password } : {}),
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(undefined); else child.once('exit', r); });
      await rmrf(dir);
    },
  };
}
