import { Containers } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'wait',
  summary: 'Block until one or more containers stop, then print their exit codes',
  usage: 'sbx wait CONTAINER [CONTAINER...]',
  options: {},
  async run({ positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx wait" requires at least 1 argument.');
    let failed = 0;
    for (const id of positionals) {
      try { stdout.write(`${(await client.call(Containers.wait, { id })).StatusCode}\n`); } catch (e) { failed++; stderr.write(`Error: ${(e as Error).message}\n`); }
    }
    return failed ? 1 : 0;
  },
};
