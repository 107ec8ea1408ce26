import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Images, type ImportRequest } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';

/**
 * docker import: `sbx import [OPTIONS] FILE|DIR|- [REPOSITORY[:TAG]]`, plus `--busybox` for a
 * base image from the host's busybox-static. Prints the new image ID.
 */
export const command: Command = {
  name: 'import',
  summary: 'Import the contents from a tarball, a directory or the host\'s busybox to create a filesystem image',
  usage: 'sbx import [OPTIONS] (--busybox | FILE | DIR | -) [REPOSITORY[:TAG]]',
  options: {
    busybox: { type: 'boolean' },
    change: { type: 'string', short: 'c', multiple: true },
    message: { type: 'string', short: 'm' },
    platform: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout, stdin, env }) {
    const req: ImportRequest = {};
    const changes = strs(values.change);
    if (changes.length) req.changes = changes;
    const message = str(values.message);
    if (message !== undefined) req.message = message;
    let body: Readable | Buffer = Buffer.alloc(0);
    let refArg: string | undefined;
    if (values.busybox) {
      if (positionals.length > 1) throw new UsageError('with --busybox, give at most a REPOSITORY[:TAG]');
      req.busybox = true;
      refArg = positionals[0];
    } else {
      if (positionals.length < 1 || positionals.length > 2) throw new UsageError('"sbx import" requires 1 or 2 arguments (or --busybox).');
      const src = positionals[0]!;
      refArg = positionals[1];
      if (src === '-') {
        body = stdin;
      } else {
        const st = await stat(src).catch(() => undefined);
        if (!st) throw new UsageError(`open ${src}: no such file or directory`);
        if (st.isDirectory()) {
          if (env.SBX_HOST) throw new UsageError('importing a directory needs a local daemon; send a tar instead');
          req.path = resolve(src);
        } else {
          body = createReadStream(src);
        }
      }
    }
    if (refArg !== undefined) req.reference = refArg;
    await client.ensureDaemon();
    const img = await client.upload(Images.import, req, body);
    stdout.write(`${img.id}\n`);
  },
};
