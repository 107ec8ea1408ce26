import { ContainerLifecycle, Containers, type StatsSample } from '../../protocol/index.js';
import { str, type Command } from '../command.js';
import { shortId } from '../containers.js';
import { humanSize, table } from '../output.js';
import { checkListFormat, formatList } from '../template.js';

/** docker's units.BytesSize: binary units, 4 significant digits ("1.895MiB", "7.667GiB", "0B"). */
export function bytesSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** docker's CPU %: the container's share of the host's CPU time between two samples, times the CPUs. */
export function cpuPercent(prev: StatsSample | undefined, cur: StatsSample): number {
  if (!prev || !cur.running) return 0;
  const cpu = cur.cpuNs - prev.cpuNs;
  const sys = cur.systemNs - prev.systemNs;
  return sys > 0 && cpu > 0 ? (cpu / sys) * cur.onlineCpus * 100 : 0;
}

const HEADER = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];
/** `stats --format 'table …'` column titles, as docker's. */
const HEADERS = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

/** docker's statsContext fields; Container is the name or ID as the user gave it. */
function row(s: StatsSample, prev: StatsSample | undefined, full: boolean, given: string) {
  const mem = s.memoryLimit ? (s.memoryUsage / s.memoryLimit) * 100 : 0;
  return {
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`, CPUPerc: `${cpuPercent(prev, s).toFixed(2)}%`, Container: given,
    ID: full ? s.id : shortId(s.id), MemPerc: `${mem.toFixed(2)}%`, MemUsage: `${bytesSize(s.memoryUsage)} / ${bytesSize(s.memoryLimit)}`,
    Name: s.name, NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`, PIDs: String(s.pids),
  };
}

export const command: Command = {
  name: 'stats',
  summary: 'Display a live stream of container(s) resource usage statistics',
  usage: 'sbx stats [OPTIONS] [CONTAINER...]',
  options: {
    all: { type: 'boolean', short: 'a' },
    'no-stream': { type: 'boolean' },
    'no-trunc': { type: 'boolean' },
    format: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout }) {
    const full = !!values['no-trunc'];
    const format = str(values.format);
    checkListFormat(format);
    // named containers stay on screen; otherwise the running ones (-a: all) as they come and go
    const ids = async (): Promise<string[]> => positionals.length ? positionals : (await client.call(Containers.list, { all: !!values.all })).map((c) => c.id);
    const sample = async (list: string[]): Promise<Map<string, StatsSample>> => {
      const out = new Map<string, StatsSample>();
      await Promise.all(list.map(async (id) => {
        try { out.set(id, await client.call(ContainerLifecycle.stats, { id })); } catch (e) {
          if (positionals.length) throw e;
        }
      }));
      return out;
    };
    let prev = await sample(await ids());
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000)); // docker's interval: CPU % is over this second
      const list = await ids();
      const cur = await sample(list);
      const rows = list.filter((id) => cur.has(id)).map((id) => row(cur.get(id)!, prev.get(id), full, positionals.length ? id : shortId(id)));
      const text = formatList(format, rows, {
        type: '*formatter.statsContext', headers: HEADERS,
        table: () => table(HEADER, rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs])),
      });
      if (values['no-stream']) { stdout.write(text); return 0; }
      // redraw in place on a terminal, as docker does
      stdout.write(stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
      prev = cur;
    }
  },
};
