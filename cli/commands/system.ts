/** `sbx system df`: docker's disk usage table (Images, Containers, Local Volumes, Build Cache). */
import { System, type UsageRow } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { humanSize, table } from '../output.js';

/** docker's RECLAIMABLE cell: "1.2MB (50%)", just the size when there is nothing or no percent. */
function reclaimable(r: UsageRow, percent: boolean): string {
  return percent && r.size > 0 ? `${humanSize(r.reclaimable)} (${Math.floor((r.reclaimable * 100) / r.size)}%)` : humanSize(r.reclaimable);
}

export const command: Command = {
  name: 'system',
  subcommands: ['df'],
  summary: 'Manage sbx (df: show disk usage)',
  usage: 'sbx system df',
  options: {},
  async run({ positionals }, { client, stdout }) {
    if (positionals[0] !== 'df' || positionals.length !== 1) throw new UsageError('expected "sbx system df"');
    const u = await client.call(System.df, {});
    const row = (type: string, r: UsageRow, percent = true) => [type, String(r.total), String(r.active), humanSize(r.size), reclaimable(r, percent)];
    stdout.write(table(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], [
      row('Images', u.images), row('Containers', u.containers), row('Local Volumes', u.volumes), row('Build Cache', u.buildCache, false),
    ]));
  },
};
