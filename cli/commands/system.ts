/** `sbx system df`: docker's disk usage table (Images, Containers, Local Volumes, Build Cache). */
import { System, type DiskUsageItems, type UsageRow } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { humanSize, shortId, table, timeAgo, truncate } from '../output.js';
import { checkListFormat, formatList } from '../template.js';

/** docker's RECLAIMABLE cell: "1.2MB (50%)", just the size when there is nothing or no percent. */
function reclaimable(r: UsageRow, percent: boolean): string {
  return percent && r.size > 0 ? `${humanSize(r.reclaimable)} (${Math.floor((r.reclaimable * 100) / r.size)}%)` : humanSize(r.reclaimable);
}

export const command: Command = {
  name: 'system',
  subcommands: ['df'],
  summary: 'Manage sbx (df: show disk usage)',
  usage: 'sbx system df [-v] [--format F]',
  options: {
    format: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals[0] !== 'df' || positionals.length !== 1) throw new UsageError('expected "sbx system df"');
    const format = str(values.format);
    checkListFormat(format);
    const u = await client.call(System.df, values.verbose ? { verbose: true } : {});
    if (values.verbose && u.items && (format === undefined || format === 'table')) { stdout.write(verbose(u.items, u.buildCache)); return; }
    // docker's diskUsageContext fields
    const row = (Type: string, r: UsageRow, percent = true) => ({
      Active: String(r.active), Reclaimable: reclaimable(r, percent), Size: humanSize(r.size), TotalCount: String(r.total), Type,
    });
    const rows = [row('Images', u.images), row('Containers', u.containers), row('Local Volumes', u.volumes), row('Build Cache', u.buildCache, false)];
    stdout.write(formatList(format, rows, {
      type: '*formatter.diskUsageContext',
      headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
      table: () => table(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], rows.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable])),
    }));
  },
};

/** docker's `system df -v`: a table per kind under its title. */
function verbose(items: DiskUsageItems, cache: UsageRow): string {
  const images = items.images.flatMap((i) => {
    const rest = [shortId(i.id.replace(/^sha256:/, '')), timeAgo(i.created), humanSize(i.size), humanSize(i.sharedSize), humanSize(i.size - i.sharedSize), String(i.containers)];
    if (!i.repoTags.length) return [['<none>', '<none>', ...rest]];
    return i.repoTags.map((t) => { const c = t.lastIndexOf(':'); return [t.slice(0, c), t.slice(c + 1), ...rest]; });
  });
  const containers = items.containers.map((c) => [shortId(c.id), c.image, `"${truncate(c.command, 20)}"`, String(c.localVolumes), humanSize(c.size), timeAgo(c.created), c.status, c.name]);
  const volumes = items.volumes.map((v) => [v.name, String(v.links), humanSize(v.size)]);
  return [
    'Images space usage:\n\n', table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'], images),
    '\nContainers space usage:\n\n', table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'], containers),
    '\nLocal Volumes space usage:\n\n', table(['VOLUME NAME', 'LINKS', 'SIZE'], volumes),
    `\nBuild cache usage: ${humanSize(cache.size)}\n\n`, table(['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED'], []),
  ].join('');
}
