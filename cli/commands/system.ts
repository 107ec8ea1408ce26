/** `sbx system df`: docker's disk usage table (Images, Containers, Local Volumes, Build Cache). */
import { System, type UsageRow } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { humanSize, table } from '../output.js';
import { checkListFormat, formatList } from '../template.js';

/** docker's RECLAIMABLE cell: "1.2MB (50%)", just the size when there is nothing or no percent. */
function reclaimable(r: UsageRow, percent: boolean): string {
  return percent && r.size > 0 ? `${humanSize(r.reclaimable)} (${Math.floor((r.reclaimable * 100) / r.size)}%)` : humanSize(r.reclaimable);
}

export const command: Command = {
  name: 'system',
  subcommands: ['df'],
  summary: 'Manage sbx (df: show disk usage)',
  usage: 'sbx system df [--format F]',
  options: {
    format: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals[0] !== 'df' || positionals.length !== 1) throw new UsageError('expected "sbx system df"');
    const format = str(values.format);
    checkListFormat(format);
    const u = await client.call(System.df, {});
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
