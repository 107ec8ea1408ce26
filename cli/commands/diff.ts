import { Changes, formatChange } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'diff',
  summary: "Inspect changes to files or directories on a container's filesystem (or between two containers/images)",
  usage: 'sbx diff [OPTIONS] CONTAINER [CONTAINER|IMAGE]',
  options: {
    patch: { type: 'boolean', short: 'p' },
    json: { type: 'boolean' },
    format: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('"sbx diff" requires 1 or 2 arguments.');
    const format = str(values.format);
    if (format !== undefined && format !== 'json') throw new UsageError(`--format ${format}: only "json" is supported`);
    const [from, to] = positionals as [string, string | undefined];
    const res = await client.call(Changes.diff, { from, ...(to ? { to } : {}), ...(values.patch ? { patch: true } : {}) });
    if (values.json || format === 'json') { stdout.write(JSON.stringify(res, null, 2) + '\n'); return; }
    for (const c of res.changes) stdout.write(formatChange(c) + '\n');
    for (const p of res.patches ?? []) {
      stdout.write('\n');
      if (p.patch) stdout.write(p.patch);
      else if (p.binary) stdout.write(`Binary file ${p.path} differs\n`);
      else if (p.tooLarge) stdout.write(`File ${p.path} is too large to diff\n`);
    }
  },
};
