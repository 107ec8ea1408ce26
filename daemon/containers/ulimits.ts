/**
 * docker's --ulimit NAME=SOFT[:HARD] (go-units' names; -1 unlimited; HARD defaults to SOFT),
 * checked against the daemon's own hard limits (/proc/self/limits): a container never gets more
 * than the host gave sbxd. Each bad value is an invalid_argument naming it.
 */
import { readFileSync } from 'node:fs';
import { SbxError } from '../../protocol/index.js';
import type { Ulimit } from '../runtime/runtime.js';

/** docker's names → the row of /proc/self/limits. */
const ROWS: Record<string, string> = {
  core: 'Max core file size', cpu: 'Max cpu time', data: 'Max data size', fsize: 'Max file size', locks: 'Max file locks',
  memlock: 'Max locked memory', msgqueue: 'Max msgqueue size', nice: 'Max nice priority', nofile: 'Max open files',
  nproc: 'Max processes', rss: 'Max resident set', rtprio: 'Max realtime priority', rttime: 'Max realtime timeout',
  sigpending: 'Max pending signals', stack: 'Max stack size',
};

const bad = (msg: string): SbxError => new SbxError('invalid_argument', `create container: ${msg}`);

/** The host's hard limit for a docker name; -1 unlimited. */
function hostHard(name: string): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(ROWS[name]!));
  const hard = line?.slice(26).trim().split(/\s+/)[1];
  return !hard || hard === 'unlimited' ? -1 : Number(hard);
}

/** @throws invalid_argument: unknown name, malformed value, soft above hard, hard above the host's */
export function checkUlimits(values: string[]): Ulimit[] {
  const byName = new Map<string, Ulimit>();
  for (const v of values) {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
    if (!m) throw bad(`invalid ulimit argument: ${JSON.stringify(v)} (want NAME=SOFT[:HARD])`);
    const name = m[1]!;
    if (!ROWS[name]) throw bad(`invalid ulimit type: ${name} (one of ${Object.keys(ROWS).join(', ')})`);
    const soft = Number(m[2]);
    const hard = m[3] === undefined ? soft : Number(m[3]);
    if (soft < -1 || hard < -1) throw bad(`invalid ulimit ${v}: a limit is a number ≥ 0, or -1 for unlimited`);
    if (hard !== -1 && (soft === -1 || soft > hard)) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft === -1 ? 'unlimited' : soft} > ${hard}`);
    const host = hostHard(name);
    if (host !== -1 && (hard === -1 || hard > host)) {
      throw bad(`ulimit ${v}: the hard limit ${hard === -1 ? 'unlimited' : hard} is above the host's (${host}); sbx keeps containers within the daemon's own limits`);
    }
    byName.set(name, { name, soft, hard });
  }
  return [...byName.values()];
}
