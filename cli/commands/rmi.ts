/**
 * `sbx rmi [-f] IMAGE...`, docker's: each image in turn; a refusal ("conflict: …", no such image)
 * prints "Error response from daemon: …" and the rest still go; exit 1 if any was refused.
 */
import { Images } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { daemonError } from '../output.js';

export const command: Command = {
  name: 'rmi',
  summary: 'Remove one or more images',
  usage: 'sbx rmi [OPTIONS] IMAGE [IMAGE...]',
  options: {
    force: { type: 'boolean', short: 'f' },
    'no-prune': { type: 'boolean' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx rmi" requires at least 1 argument.');
    let status = 0;
    for (const ref of positionals) {
      try {
        const r = await client.call(Images.remove, { ref, force: values.force === true });
        for (const u of r.untagged) stdout.write(`Untagged: ${u}\n`);
        for (const d of r.deleted) stdout.write(`Deleted: ${d}\n`);
      } catch (e) {
        status = daemonError(stderr, e);
      }
    }
    return status;
  },
};
