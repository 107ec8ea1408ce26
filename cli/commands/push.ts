import { Registry, parseReference } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { progressPrinter } from '../progress.js';

export const command: Command = {
  name: 'push',
  summary: 'Upload an image to a registry',
  usage: 'sbx push [--insecure] [-q] NAME[:TAG]',
  options: { insecure: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx push" requires exactly 1 argument');
    const ref = parseReference(positionals[0]!);
    const onEvent = values.quiet ? undefined : progressPrinter(stdout);
    const r = await client.progress(Registry.push, { reference: positionals[0]!, ...(values.insecure ? { insecure: true } : {}) }, onEvent);
    stdout.write(values.quiet ? `${r.reference}\n` : `${ref.tag}: digest: ${r.digest} size: ${r.size}\n`);
  },
};
