/** `sbx builder prune [-a] [-f]`: remove build cache, as docker's (dangling only unless -a). */
import { Build } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { humanSize } from '../output.js';
import { confirm } from '../prompt.js';

export const command: Command = {
  name: 'builder',
  subcommands: ['prune'],
  summary: 'Manage builds (prune: remove build cache)',
  usage: 'sbx builder prune [-a|--all] [-f|--force]',
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    if (positionals[0] !== 'prune' || positionals.length !== 1) throw new UsageError('expected "sbx builder prune [-a] [-f]"');
    const all = values.all === true;
    if (values.force !== true) {
      const what = all ? 'all build cache' : 'all dangling build cache';
      if (!(await confirm(stdin, stdout, `WARNING! This will remove ${what}.`))) {
        stderr.write('builder prune has been cancelled\n');
        return 1;
      }
    }
    const r = await client.call(Build.prune, { all });
    if (r.deleted.length) stdout.write(`Deleted build cache objects:\n${r.deleted.map((id) => `${id}\n`).join('')}\n`);
    stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  },
};
