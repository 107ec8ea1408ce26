/**
 * `sbx system prune [-a] [-f] [--volumes]`: stopped containers, then unused images (dangling, or
 * every unused one with -a), then build cache, as docker's CLI does it (one prune call each).
 * sbx has no networks to prune; --volumes is accepted (sbx keeps no volumes yet: nothing to remove).
 */
import { Build, Prune } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { humanSize } from '../output.js';
import { confirm } from '../prompt.js';

export const command: Command = {
  name: 'system prune',
  summary: 'Remove unused data',
  usage: 'sbx system prune [OPTIONS]',
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
    volumes: { type: 'boolean' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    if (positionals.length) throw new UsageError('"sbx system prune" accepts no arguments.');
    const all = values.all === true;
    const items = [
      'all stopped containers',
      ...(values.volumes === true ? ['all anonymous volumes not used by at least one container'] : []),
      all ? 'all images without at least one container associated to them' : 'all dangling images',
      all ? 'all build cache' : 'unused build cache',
    ];
    if (values.force !== true && !(await confirm(stdin, stdout, `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}\n`))) {
      stderr.write('system prune has been cancelled\n');
      return 1;
    }
    const c = await client.call(Prune.containers, {});
    if (c.deleted.length) stdout.write(`Deleted Containers:\n${c.deleted.map((id) => `${id}\n`).join('')}\n`);
    const i = await client.call(Prune.images, { all });
    const lines = [...i.untagged.map((u) => `untagged: ${u}\n`), ...i.deleted.map((d) => `deleted: ${d}\n`)];
    if (lines.length) stdout.write(`Deleted Images:\n${lines.join('')}\n`);
    const b = await client.call(Build.prune, { all });
    if (b.deleted.length) stdout.write(`Deleted build cache objects:\n${b.deleted.map((id) => `${id}\n`).join('')}\n`);
    stdout.write(`Total reclaimed space: ${humanSize(c.reclaimed + i.reclaimed + b.reclaimed)}\n`);
  },
};
