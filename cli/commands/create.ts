import { Containers } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { CREATE_OPTIONS, createRequest } from '../create-request.js';

export const command: Command = {
  name: 'create',
  summary: 'Create a new container',
  usage: 'sbx create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  stopAtPositional: true,
  options: CREATE_OPTIONS,
  async run({ values, positionals }, { client, stdout, stderr, env }) {
    const [image, ...cmd] = positionals;
    if (!image) throw new UsageError('"sbx create" requires at least 1 argument.');
    const { id, warnings } = await client.call(Containers.create, await createRequest(image, cmd, values, env, stdout));
    for (const w of warnings) stderr.write(`WARNING: ${w}\n`);
    stdout.write(`${id}\n`);
  },
};
