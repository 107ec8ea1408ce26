/**
 * Spawn the built `sbx` CLI against a given root, as a user would run it: the compiled binary
 * (dist/cli/sbx, scripts/build-cli.sh), which is what npm links as `sbx`. SBX_NODE_ENTRY is the
 * same CLI under Node (the bench's floor reference; `sbx daemon` runs through it).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli');
export const SBX_BIN = join(CLI_DIR, 'sbx');
export const SBX_NODE_ENTRY = join(CLI_DIR, 'main.js');

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function sbx(root: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(SBX_BIN, args, {
      env: { ...process.env, SBX_ROOT: root, SBX_NO_AUTOSTART: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sbx ${args.join(' ')}: timed out`)); }, opts.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(opts.input);
  });
}
