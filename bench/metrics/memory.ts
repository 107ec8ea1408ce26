/**
 * What the container manager itself costs in memory with many idle containers (`sleep 3600`),
 * counted as PSS (shared pages split among the processes sharing them, so a hundred copies of one
 * binary are not counted a hundred times):
 * - sbx: a fresh sbxd plus every process it keeps per container outside the containers
 *   (descendants of sbxd in sbxd's own PID namespace);
 * - podman: one conmon per container (podman keeps no daemon; its REST service, used here only to
 *   create the containers, is left out).
 * The containers' own processes are not counted on either side.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';
import { Containers } from '../../protocol/index.js';
import { side, type Metric } from '../harness.js';
import { image, startSbxd, hasVerb, type Fixtures } from '../fixtures.js';
import { ok2xx } from '../podman-api.js';
import { needContainersApi, podmanApi } from './api.js';

const IDLE = Number(process.env.BENCH_IDLE ?? 100);

async function pssKb(pid: number, field = 'Pss'): Promise<number> {
  try {
    const s = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  } catch { return 0; }
}

/** pid → parent pid for every process. */
async function parents(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch { /* gone */ }
  }
  return out;
}

/** sbxd and its descendants that share its PID namespace (not the containers' processes). */
async function sbxdTreePss(pid: number): Promise<{ mib: number; procs: number; byName: string }> {
  const ns = await readlink(`/proc/${pid}/ns/pid`);
  const pp = await parents();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, parent] of pp) if (!tree.has(p) && tree.has(parent)) { tree.add(p); grew = true; }
  }
  let kb = 0;
  let procs = 0;
  const by = new Map<string, { n: number; kb: number }>();
  for (const p of tree) {
    const pns = await readlink(`/proc/${p}/ns/pid`).catch(() => '');
    if (pns !== ns) continue;
    const k = await pssKb(p);
    kb += k;
    procs++;
    const argv = (await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const name = p === pid ? 'sbxd' : `${argv[0]?.split('/').pop() ?? '?'}${argv[1] && !argv[1].startsWith('-') ? ` ${argv[1]}` : ''}`;
    const e = by.get(name) ?? { n: 0, kb: 0 };
    by.set(name, { n: e.n + 1, kb: e.kb + k });
  }
  // sbxd's file-backed part is mostly node's own text, split among every node process on the machine
  // (this bench's included): it is larger on a quiet machine than on a busy one
  const split = `sbxd anon ${((await pssKb(pid, 'Pss_Anon')) / 1024).toFixed(1)} + file ${((await pssKb(pid, 'Pss_File')) / 1024).toFixed(1)} MiB`;
  const byName = [...by].sort((a, b) => b[1].kb - a[1].kb).map(([n, e]) => `${n} ×${e.n} ${(e.kb / 1024).toFixed(1)} MiB`).join(', ') + ` (${split})`;
  return { mib: kb / 1024, procs, byName };
}

/**
 * `network`: the sbx containers' network mode (default: sbx's default bridge: its namespace holder,
 * and its outbound path, one pasta, once a container sends a packet out; these idle ones send
 * none). podman's containers here have none (peers.md: netns none).
 */
function idleMetric(id: string, network?: 'none'): Metric<Fixtures> {
  return {
    id,
    name: `memory (PSS) of the manager with ${IDLE} idle containers: sbxd + its helpers${network ? ` (\`--network ${network}\`, as podman's here)` : ' (default network)'}`,
    peer: `podman: ${IDLE} × conmon (no network)`,
    unit: 'MiB',
    runs: 1,
    warmup: 0,
    timeoutMs: 900_000,
    async prepare(fx) {
      return {
        sbx: await side(async () => {
          const base = await fx.sbxd();
          await needContainersApi(base.client);
          image(base);
          return async () => {
            const d = await startSbxd(fx, { importBusybox: hasVerb('import') });
            const ids: string[] = [];
            try {
              const img = image(d);
              for (let i = 0; i < IDLE; i++) {
                const { id } = await d.client.call(Containers.create, { image: img, cmd: ['sleep', '3600'], ...(network ? { network } : {}) });
                ids.push(id);
                await d.client.call(Containers.start, { id });
              }
              await new Promise((r) => setTimeout(r, 2000));
              const m = await sbxdTreePss(d.pid);
              fx.log(`    sbx: ${m.procs} processes outside the containers: ${m.byName}`);
              return m.mib;
            } finally {
              for (const id of ids) await d.client.call(Containers.remove, { id, force: true }).catch(() => undefined);
              await d.close();
            }
          };
        }),
        peer: await side(async () => {
          const { api, p } = await podmanApi(fx);
          return async () => {
            const ids: string[] = [];
            try {
              for (let i = 0; i < IDLE; i++) {
                const { Id } = await ok2xx(api, 'POST', '/containers/create', { image: p.image, command: ['sleep', '3600'] });
                ids.push(Id);
                await ok2xx(api, 'POST', `/containers/${Id}/start`);
              }
              await new Promise((r) => setTimeout(r, 2000));
              let kb = 0;
              for (const id of ids) {
                const info = await ok2xx(api, 'GET', `/containers/${id}/json`);
                kb += await pssKb(Number(info.State.ConmonPid));
              }
              return kb / 1024;
            } finally {
              for (const id of ids) await api.call('DELETE', `/containers/${id}?force=true&timeout=0`);
            }
          };
        }),
      };
    },
  };
}

export const memoryMetrics: Metric<Fixtures>[] = [idleMetric('memory.idle'), idleMetric('memory.idle.nonet', 'none')];
