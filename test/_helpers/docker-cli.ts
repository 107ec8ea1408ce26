/**
 * Debian's docker CLI (the binary only, extracted by setup.sh; never dockerd) run against a test
 * daemon's socket, as a user with DOCKER_HOST=unix://... runs it. Its config dir is a fresh temp
 * dir, so nothing from the host's ~/.docker leaks in.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { CliResult } from './cli.js';
import { ptyCli, type PtyCli } from './containers.js';

export const DOCKER_BIN = process.env.SBX_DOCKER_CLI ?? '/opt/sbx/docker-cli/docker';

const configDir = mkdtempSync(join(tmpdir(), 'sbx-docker-config-'));

function dockerEnv(socket: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  assert.ok(existsSync(DOCKER_BIN), `${DOCKER_BIN}: missing (run setup.sh, which extracts Debian's docker CLI)`);
  return { PATH: process.env.PATH, HOME: configDir, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: configDir, ...env };
}

/** `docker ARGS` against `socket`; fails the test when the CLI is not installed. */
export function docker(socket: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const env = dockerEnv(socket, opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER_BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`docker ${args.join(' ')}: timed out (stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)})`)); }, opts.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  });
}

/** `docker ARGS` against `socket` with a pseudo-terminal as its stdin/stdout (`docker run -it`, `docker exec -it`). */
export function dockerPty(socket: string, args: string[], size = { cols: 80, rows: 24 }): PtyCli {
  return ptyCli(DOCKER_BIN, args, size, { ...dockerEnv(socket), TERM: 'xterm' });
}

/** One raw request on a docker socket: status, headers, body text. */
export function raw(sock: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
