import { Containers } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'rm',
  summary: 'Remove one or more containers',
  usage: 'sbx rm [OPTIONS] CONTAINER [CONTAINER...]',
  options: { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' } },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx rm" requires at least 1 argument.');
    let failed = 0;
    for (const id of positionals) {
      try {
        await client.call(Containers.remove, { id, force: !!values.force, volumes: !!values.volumes });
        stdout.write(`${id}\n`);
      } catch (e) {
        failed++;
        stderr.write(`Error: ${(e as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};
