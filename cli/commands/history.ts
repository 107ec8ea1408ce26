import { Images } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { humanSize, shortId, table, timeAgo, truncate } from '../output.js';
import { checkListFormat, formatList } from '../template.js';

export const command: Command = {
  name: 'history',
  summary: 'Show the history of an image',
  usage: 'sbx history [OPTIONS] IMAGE',
  options: {
    human: { type: 'boolean', short: 'H', default: true },
    'no-trunc': { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    format: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx history" requires exactly 1 argument.');
    checkListFormat(str(values.format));
    const rows = await client.call(Images.history, { ref: positionals[0]! });
    const noTrunc = values['no-trunc'] === true;
    const human = values.human !== false;
    const id = (v: string): string => (v === '<missing>' || noTrunc ? v : shortId(v));
    if (values.quiet) { for (const r of rows) stdout.write(id(r.id) + '\n'); return; }
    const view = rows.map((r) => ({
      ID: id(r.id),
      CreatedSince: human ? createdSince(r.created) : r.created,
      CreatedAt: r.created,
      CreatedBy: noTrunc ? r.createdBy : truncate(r.createdBy.replace(/\t/g, ' '), 45),
      Size: human ? humanSize(r.size) : String(r.size),
      Comment: r.comment,
    }));
    const format = str(values.format);
    stdout.write(formatList(format, view, {
      type: '*formatter.historyContext',
      headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
      table: () => table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], view.map((v) => [v.ID, v.CreatedSince, v.CreatedBy, v.Size, v.Comment])),
    }));
  },
};

/** docker shows N/A for times before 2000. */
function createdSince(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) || t < Date.UTC(2000, 0, 1) ? 'N/A' : timeAgo(iso);
}
