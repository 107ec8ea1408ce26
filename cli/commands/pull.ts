import { Registry, familiarString, parseReference } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { progressPrinter } from '../progress.js';

export const command: Command = {
  name: 'pull',
  summary: 'Download an image from a registry',
  usage: 'sbx pull [--platform OS/ARCH] [--insecure] [-q] NAME[:TAG|@DIGEST]',
  options: { platform: { type: 'string' }, insecure: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx pull" requires exactly 1 argument');
    const ref = parseReference(positionals[0]!);
    const platform = str(values.platform);
    const onEvent = values.quiet ? undefined : progressPrinter(stdout);
    const r = await client.progress(Registry.pull, {
      reference: positionals[0]!, ...(platform ? { platform } : {}), ...(values.insecure ? { insecure: true } : {}),
    }, onEvent);
    if (!values.quiet) {
      stdout.write(`Digest: ${r.digest}\n`);
      stdout.write(r.changed ? `Status: Downloaded newer image for ${familiarString(ref)}\n` : `Status: Image is up to date for ${familiarString(ref)}\n`);
    }
    stdout.write(`${r.reference}\n`);
  },
};
