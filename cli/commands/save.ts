import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Images } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'save',
  summary: 'Save one or more images to a tar archive (docker save format, or an OCI archive)',
  usage: 'sbx save [OPTIONS] IMAGE [IMAGE...]',
  options: {
    output: { type: 'string', short: 'o' },
    format: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length === 0) throw new UsageError('"sbx save" requires at least 1 argument.');
    const format = str(values.format) ?? 'docker';
    if (format !== 'docker' && format !== 'oci') throw new UsageError(`--format must be docker or oci, not "${format}"`);
    const output = str(values.output);
    if (!output && stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await client.download(Images.save, { refs: positionals, format });
    if (!output) { await pipeline(res, stdout); return; }
    // Written aside and renamed, so a failed save never leaves a half archive under the name.
    const tmp = join(dirname(output), `.${basename(output)}.sbx-save-${process.pid}`);
    try {
      await pipeline(res, createWriteStream(tmp));
      await rename(tmp, output);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  },
};
