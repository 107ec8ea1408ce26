import { UsageError, str, type Command } from '../command.js';
import { pullImage } from '../image-pull.js';

export const command: Command = {
  name: 'pull',
  summary: 'Download an image from a registry',
  usage: 'sbx pull [--platform OS/ARCH] [--insecure] [-q] NAME[:TAG|@DIGEST]',
  options: { platform: { type: 'string' }, insecure: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx pull" requires exactly 1 argument');
    const platform = str(values.platform);
    const r = await pullImage(client, positionals[0]!, stdout, {
      ...(platform ? { platform } : {}), ...(values.insecure ? { insecure: true } : {}), ...(values.quiet ? { quiet: true } : {}),
    });
    stdout.write(`${r.reference}\n`);
  },
};
