/** `sbx image prune [-a] [-f]`: remove dangling images (-a: every image no container uses), as docker's. */
import { Prune } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { humanSize } from '../output.js';
import { confirm } from '../prompt.js';

export const command: Command = {
  name: 'image prune',
  summary: 'Remove unused images',
  usage: 'sbx image prune [OPTIONS]',
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    if (positionals.length) throw new UsageError('"sbx image prune" accepts no arguments.');
    const all = values.all === true;
    const warning = all ? 'WARNING! This will remove all images without at least one container associated to them.\n' : 'WARNING! This will remove all dangling images.\n';
    if (values.force !== true && !(await confirm(stdin, stdout, warning))) {
      stderr.write('image prune has been cancelled\n');
      return 1;
    }
    const r = await client.call(Prune.images, { all });
    const lines = [...r.untagged.map((u) => `untagged: ${u}\n`), ...r.deleted.map((d) => `deleted: ${d}\n`)];
    if (lines.length) stdout.write(`Deleted Images:\n${lines.join('')}\n`);
    stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  },
};
