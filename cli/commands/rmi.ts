import { Images, SbxError } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

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
    let failed: SbxError | undefined;
    for (const ref of positionals) {
      try {
        const r = await client.call(Images.remove, { ref, force: values.force === true });
        for (const u of r.untagged) stdout.write(`Untagged: ${u}\n`);
        for (const d of r.deleted) stdout.write(`Deleted: ${d}\n`);
      } catch (e) {
        if (!(e instanceof SbxError) || positionals.length === 1) throw e;
        stderr.write(`Error: ${e.message}\n`);
        failed = e;
      }
    }
    if (failed) return 125;
  },
};
