/** `sbx container prune [-f] [--filter until=|label=]`: remove stopped containers, as docker's. */
import { Prune } from '../../protocol/index.js';
import { UsageError, strs, type Command } from '../command.js';
import { daemonError, humanSize } from '../output.js';
import { confirm } from '../prompt.js';

export const command: Command = {
  name: 'container prune',
  summary: 'Remove all stopped containers',
  usage: 'sbx container prune [OPTIONS]',
  options: {
    filter: { type: 'string', multiple: true },
    force: { type: 'boolean', short: 'f' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    if (positionals.length) throw new UsageError('"sbx container prune" accepts no arguments.');
    if (values.force !== true && !(await confirm(stdin, stdout, 'WARNING! This will remove all stopped containers.\n'))) {
      stderr.write('container prune has been cancelled\n');
      return 1;
    }
    let r;
    try { r = await client.call(Prune.containers, { filters: strs(values.filter) }); } catch (e) { return daemonError(stderr, e); }
    if (r.deleted.length) stdout.write(`Deleted Containers:\n${r.deleted.map((id) => `${id}\n`).join('')}\n`);
    stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  },
};
