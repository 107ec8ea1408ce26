import { Images } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'tag',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  usage: 'sbx tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  options: {},
  async run({ positionals }, { client }) {
    if (positionals.length !== 2) throw new UsageError('"sbx tag" requires exactly 2 arguments.');
    await client.call(Images.tag, { source: positionals[0]!, target: positionals[1]! });
  },
};
