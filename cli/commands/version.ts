import type { Command } from '../command.js';
import { System } from '../../protocol/index.js';
import { CLI_VERSION } from '../version.js';

export const command: Command = {
  name: 'version',
  summary: 'Show the sbx and sbxd versions',
  usage: 'sbx version [--format json]',
  options: { format: { type: 'string' } },
  async run({ values }, { client, stdout }) {
    const daemon = await client.call(System.version);
    if (values.format === 'json') {
      stdout.write(JSON.stringify({ client: { version: CLI_VERSION, node: process.version }, server: daemon }, null, 2) + '\n');
      return;
    }
    stdout.write(`Client:\n Version:\t${CLI_VERSION}\n Node:\t\t${process.version}\n`);
    stdout.write(`Server:\n Version:\t${daemon.version}\n API:\t\t${daemon.api}\n Root:\t\t${daemon.root}\n PID:\t\t${daemon.pid}\n`);
  },
};
