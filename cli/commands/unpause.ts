import { ContainerLifecycle } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'unpause',
  summary: 'Unpause all processes within one or more containers',
  usage: 'sbx unpause CONTAINER [CONTAINER...]',
  options: {},
  async run({ positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx unpause" requires at least 1 argument.');
    let failed = 0;
    for (const id of positionals) {
      try { await client.call(ContainerLifecycle.unpause, { id }); stdout.write(`${id}\n`); } catch (e) { failed++; stderr.write(`Error: ${(e as Error).message}\n`); }
    }
    return failed ? 1 : 0;
  },
};
