import { Containers, type ContainerSummary } from '../../protocol/index.js';
import { UsageError, strs, type Command } from '../command.js';
import { formatPorts, shortId } from '../containers.js';
import { daemonError, humanSize, table, timeAgo, truncate } from '../output.js';
import { checkListFormat, formatList, isJsonFormat, labelMethod } from '../template.js';

/** Column titles for `ps --format 'table …'`, as docker's. */
const HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Names: 'NAMES', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS',
};

/** docker's CreatedAt: "2024-01-02 15:04:05 +0000 UTC". */
function goTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/** docker's Size: "12B (virtual 4.26MB)", the virtual part only when the daemon counted it. */
function sizeText(r: ContainerSummary): string {
  const rw = humanSize(r.sizeRw ?? 0);
  return r.sizeRootFs ? `${rw} (virtual ${humanSize(r.sizeRootFs)})` : rw;
}

/** docker's Ellipsis: at most `n` characters, the last one "…" when cut. */
const ellipsis = (s: string, n: number): string => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

export const command: Command = {
  name: 'ps',
  summary: 'List containers',
  usage: 'sbx ps [OPTIONS]',
  options: {
    all: { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
    'no-trunc': { type: 'boolean' },
    format: { type: 'string' },
    filter: { type: 'string', short: 'f', multiple: true },
    last: { type: 'string', short: 'n' },
    latest: { type: 'boolean', short: 'l' },
    size: { type: 'boolean', short: 's' },
  },
  async run({ values }, { client, stdout, stderr }) {
    const format = values.format === undefined ? undefined : String(values.format);
    checkListFormat(format);
    const filters = strs(values.filter);
    // docker's CLI checks the shape, the daemon the key and value ("invalid filter 'x'", exit 1).
    for (const f of filters) if (!/^[^=]+=/.test(f)) throw new UsageError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    // -n N / -l: the N (1) last created, of every state, as docker's
    const last = values.latest ? 1 : values.last === undefined ? -1 : Number(values.last);
    if (!Number.isInteger(last) || last < -1) throw new UsageError(`invalid argument "${String(values.last)}" for "-n, --last" flag: strconv.ParseInt: parsing "${String(values.last)}": invalid syntax`);
    // -s, or (unless --size=false or -q) a format that shows .Size, as docker's (json shows every field)
    const size = values.size === true || (values.size === undefined && !values.quiet && !!format && (format.includes('.Size') || isJsonFormat(format)));
    let rows;
    try {
      rows = await client.call(Containers.list, { all: !!values.all || last > 0, ...(filters.length ? { filters } : {}), ...(size ? { size } : {}) });
    } catch (e) { return daemonError(stderr, e); }
    if (last > 0) rows = [...rows].sort((a, b) => b.created.localeCompare(a.created)).slice(0, last);
    const full = !!values['no-trunc'];
    if (values.quiet) { for (const r of rows) stdout.write(`${full ? r.id : shortId(r.id)}\n`); return; }
    // The fields docker's ps template offers, as docker shapes them (Command quoted, truncated unless --no-trunc).
    const items = rows.map((r) => ({
      Command: `"${full ? r.command : truncate(r.command, 20)}"`, CreatedAt: goTime(r.created), ID: full ? r.id : shortId(r.id), Image: r.image,
      Labels: Object.entries(r.labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(','), LocalVolumes: String(r.localVolumes ?? 0),
      Mounts: (r.mounts ?? []).map((m) => (full ? m : ellipsis(m, 15))).join(','), Names: r.name, Networks: (r.networks ?? []).join(','),
      Ports: formatPorts(r.ports), RunningFor: timeAgo(r.created), Size: sizeText(r), State: r.state, Status: r.status,
    }));
    stdout.write(formatList(format, items, {
      type: '*formatter.ContainerContext', methods: (r: { Labels: string }) => labelMethod(r.Labels),
      headers: HEADERS,
      // -s adds docker's SIZE column to its default table
      table: () => table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES', ...(values.size ? ['SIZE'] : [])],
        items.map((i) => [i.ID, i.Image, i.Command, i.RunningFor, i.Status, i.Ports, i.Names, ...(values.size ? [i.Size] : [])])),
    }));
  },
};
