import { Registry } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'logout',
  summary: 'Log out from a registry',
  usage: 'sbx logout SERVER',
  options: {},
  async run({ positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx logout" requires exactly 1 argument (the registry)');
    const r = await client.call(Registry.logout, { registry: positionals[0]! });
    stdout.write(r.removed ? `Removing login credentials for ${positionals[0]}\n` : `Not logged in to ${positionals[0]}\n`);
  },
};
