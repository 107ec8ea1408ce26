/**
 * `sbx top`: the host's ps, kept to the container's processes (docker's ContainerTop). ps runs
 * with the user's options and `-q PID,...`; options that cannot take -q (f) are retried without
 * it, and the rows are then filtered on the PID column either way.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SbxError, type TopResult } from '../../protocol/index.js';
import type { ContainerManager } from './manager.js';

const run = promisify(execFile);

export async function containerTop(m: ContainerManager, ref: string, psArgs = '-ef'): Promise<TopResult> {
  const c = m.get(ref);
  // docker's check: a PID column renamed (pid=X) cannot be found again
  for (const g of psArgs.matchAll(/\s*(\S*)=\s*(PID)/g)) {
    if (g[1] !== 'pid') throw new SbxError('invalid_argument', `specifying "${g[1]}=${g[2]}" is not allowed`);
  }
  const pids = c.state.status === 'running' ? await m.runtime.pids(c.config.id) : [];
  if (c.state.status !== 'running' || pids.length === 0) throw new SbxError('failed_precondition', `Container ${c.config.id} is not running`);
  const args = psArgs.split(' ').filter(Boolean);
  let out: string;
  try {
    out = (await run('ps', [...args, '-q', pids.join(',')], { maxBuffer: 16 << 20 })).stdout;
  } catch {
    try { out = (await run('ps', args, { maxBuffer: 16 << 20 })).stdout; } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new SbxError('invalid_argument', `ps: ${(err.stderr || err.message).trim()}`);
    }
  }
  return parsePs(out, new Set(pids));
}

/** docker's parsePSOutput: titles from the header, the last column keeps its spaces. */
export function parsePs(out: string, pids: Set<number>): TopResult {
  const lines = out.split('\n').filter((l) => l.trim());
  const Titles = (lines[0] ?? '').trim().split(/\s+/);
  const col = Titles.indexOf('PID');
  if (col < 0) throw new SbxError('invalid_argument', "Couldn't find PID field in ps output");
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(Number(fields[col]))) continue;
    Processes.push([...fields.slice(0, Titles.length - 1), fields.slice(Titles.length - 1).join(' ')]);
  }
  return { Titles, Processes };
}
