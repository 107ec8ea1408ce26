import { ContainerLifecycle } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'rename',
  summary: 'Rename a container',
  usage: 'sbx rename CONTAINER NEW_NAME',
  options: {},
  async run({ positionals }, { client, stderr }) {
    if (positionals.length !== 2) throw new UsageError('"sbx rename" requires exactly 2 arguments.');
    const [id, name] = positionals as [string, string];
    if (!name.trim()) throw new UsageError('Neither old nor new names may be empty');
    try { await client.call(ContainerLifecycle.rename, { id, name }); } catch (e) { stderr.write(`Error: ${(e as Error).message}\n`); return 1; }
    return 0;
  },
};
