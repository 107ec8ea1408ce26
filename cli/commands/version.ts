import type { Command } from '../command.js';
import { System } from '../../protocol/index.js';
import { checkTemplate, goStruct, renderTemplate } from '../template.js';
import { RUNTIME } from '../runtime.js';
import { CLI_VERSION } from '../version.js';

export const command: Command = {
  name: 'version',
  summary: 'Show the sbx and sbxd versions',
  usage: 'sbx version [--format json|TEMPLATE]',
  options: { format: { type: 'string', short: 'f' } },
  async run({ values }, { client, stdout }) {
    const format = values.format === undefined ? undefined : String(values.format);
    if (format !== undefined && format !== 'json') checkTemplate(format);
    const daemon = await client.call(System.version);
    if (format !== undefined) {
      // docker's field names: `sbx version --format '{{.Server.Version}}'` as with docker; json is docker's {{json .}}
      const info = goStruct({
        Client: goStruct({ Version: CLI_VERSION, Runtime: RUNTIME, Os: process.platform, Arch: process.arch }, 'command.clientVersion'),
        Server: goStruct({ Version: daemon.version, ApiVersion: daemon.api, Node: daemon.node, Root: daemon.root, Pid: daemon.pid, ...(daemon.snapshotter ? { Snapshotter: daemon.snapshotter } : {}) }, 'types.Version'),
      }, 'command.versionInfo');
      stdout.write((format === 'json' ? JSON.stringify(info) : renderTemplate(format, info)) + '\n');
      return;
    }
    stdout.write(`Client:\n Version:\t${CLI_VERSION}\n Runtime:\t${RUNTIME}\n`);
    stdout.write(`Server:\n Version:\t${daemon.version}\n API:\t\t${daemon.api}\n Root:\t\t${daemon.root}\n PID:\t\t${daemon.pid}\n`);
  },
};
