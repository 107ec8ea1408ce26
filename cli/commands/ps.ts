import { Containers } from '../../protocol/index.js';
import { UsageError, strs, type Command } from '../command.js';
import { formatPorts, shortId } from '../containers.js';
import { daemonError, table, timeAgo, truncate } from '../output.js';
import { checkListFormat, formatList } from '../template.js';

/** Column titles for `ps --format 'table …'`, as docker's. */
const HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Names: 'NAMES', ExitCode: 'EXIT CODE',
};

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
  },
  async run({ values }, { client, stdout, stderr }) {
    const format = values.format === undefined ? undefined : String(values.format);
    checkListFormat(format);
    const filters = strs(values.filter);
    // docker's CLI checks the shape, the daemon the key and value ("invalid filter 'x'", exit 1).
    for (const f of filters) if (!/^[^=]+=/.test(f)) throw new UsageError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    let rows;
    try { rows = await client.call(Containers.list, { all: !!values.all, ...(filters.length ? { filters } : {}) }); } catch (e) { return daemonError(stderr, e); }
    const full = !!values['no-trunc'];
    if (values.quiet) { for (const r of rows) stdout.write(`${full ? r.id : shortId(r.id)}\n`); return; }
    // The fields docker's ps template offers, as docker shapes them (Command quoted, truncated unless --no-trunc).
    const items = rows.map((r) => ({
      ID: full ? r.id : shortId(r.id), Image: r.image, Command: `"${full ? r.command : truncate(r.command, 20)}"`, CreatedAt: r.created,
      RunningFor: timeAgo(r.created), State: r.state, Status: r.status, Names: r.name, Ports: formatPorts(r.ports),
      ...(r.exitCode !== undefined ? { ExitCode: r.exitCode } : {}),
    }));
    stdout.write(formatList(format, items, {
      headers: HEADERS,
      table: () => table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        items.map((i) => [i.ID, i.Image, i.Command, i.RunningFor, i.Status, i.Ports, i.Names])),
    }));
  },
};
