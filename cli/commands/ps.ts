import { Containers } from '../../protocol/index.js';
import { UsageError, strs, type Command } from '../command.js';
import { formatPorts, shortId } from '../containers.js';
import { daemonError, table, timeAgo, truncate } from '../output.js';

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
    const filters = strs(values.filter);
    // docker's CLI checks the shape, the daemon the key and value ("invalid filter 'x'", exit 1).
    for (const f of filters) if (!/^[^=]+=/.test(f)) throw new UsageError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    let rows;
    try { rows = await client.call(Containers.list, { all: !!values.all, ...(filters.length ? { filters } : {}) }); } catch (e) { return daemonError(stderr, e); }
    const full = !!values['no-trunc'];
    if (values.quiet) { for (const r of rows) stdout.write(`${full ? r.id : shortId(r.id)}\n`); return; }
    if (values.format === 'json') {
      for (const r of rows) {
        stdout.write(JSON.stringify({
          ID: full ? r.id : shortId(r.id), Image: r.image, Command: `"${r.command}"`, CreatedAt: r.created,
          RunningFor: timeAgo(r.created), State: r.state, Status: r.status, Names: r.name, Ports: formatPorts(r.ports),
          ...(r.exitCode !== undefined ? { ExitCode: r.exitCode } : {}),
        }) + '\n');
      }
      return;
    }
    if (values.format !== undefined) throw new Error(`--format ${String(values.format)}: only "json" is supported`);
    stdout.write(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r) => [
      full ? r.id : shortId(r.id), r.image, `"${full ? r.command : truncate(r.command, 20)}"`, timeAgo(r.created), r.status, formatPorts(r.ports), r.name,
    ])));
  },
};
