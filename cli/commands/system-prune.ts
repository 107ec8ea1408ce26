/**
 * `sbx system prune [-a] [-f] [--volumes]`: stopped containers, unused networks, anonymous unused
 * volumes (only with --volumes), unused images (dangling, or every unused one with -a), then build
 * cache, as docker's CLI does it (one prune call each, in docker's order and with its output).
 */
import { Build, Networks, Prune, Volumes } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { humanSize } from '../output.js';
import { confirm } from '../prompt.js';

const list = (title: string, items: string[]): string => (items.length ? `${title}:\n${items.map((i) => `${i}\n`).join('')}\n` : '');

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
    const volumes = values.volumes === true;
    const items = [
      'all stopped containers',
      'all networks not used by at least one container',
      ...(volumes ? ['all anonymous volumes not used by at least one container'] : []),
      all ? 'all images without at least one container associated to them' : 'all dangling images',
      all ? 'all build cache' : 'unused build cache',
    ];
    if (values.force !== true && !(await confirm(stdin, stdout, `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}\n`))) {
      stderr.write('system prune has been cancelled\n');
      return 1;
    }
    const c = await client.call(Prune.containers, {});
    stdout.write(list('Deleted Containers', c.deleted));
    const n = await client.call(Networks.prune, {});
    stdout.write(list('Deleted Networks', n.NetworksDeleted));
    const v = volumes ? await client.call(Volumes.prune, { all: false }) : { VolumesDeleted: [], SpaceReclaimed: 0 };
    stdout.write(list('Deleted Volumes', v.VolumesDeleted));
    const i = await client.call(Prune.images, { all });
    stdout.write(list('Deleted Images', [...i.untagged.map((u) => `untagged: ${u}`), ...i.deleted.map((d) => `deleted: ${d}`)]));
    const b = await client.call(Build.prune, { all });
    stdout.write(list('Deleted build cache objects', b.deleted));
    stdout.write(`Total reclaimed space: ${humanSize(c.reclaimed + v.SpaceReclaimed + i.reclaimed + b.reclaimed)}\n`);
  },
};
