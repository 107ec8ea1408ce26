import { readFile, stat, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Build, SbxError, type BuildEvent, type BuildRequest } from '../../protocol/index.js';
import { packContext } from '../build-context.js';
import { buildPrinter } from '../build-progress.js';
import { readAll } from '../client.js';
import { UsageError, str, strs, type Command } from '../command.js';

export const command: Command = {
  name: 'build',
  summary: 'Build an image from a Dockerfile',
  usage: 'sbx build [OPTIONS] PATH | -',
  options: {
    tag: { type: 'string', short: 't', multiple: true },
    file: { type: 'string', short: 'f' },
    target: { type: 'string' },
    'build-arg': { type: 'string', multiple: true },
    label: { type: 'string', multiple: true },
    'no-cache': { type: 'boolean' },
    pull: { type: 'boolean' },
    progress: { type: 'string', default: 'auto' },
    quiet: { type: 'boolean', short: 'q' },
    iidfile: { type: 'string' },
    'source-date-epoch': { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin, env }) {
    if (positionals.length !== 1) throw new UsageError('"sbx build" requires exactly 1 argument.');
    const progress = str(values.progress) ?? 'auto';
    if (!['auto', 'plain', 'tty'].includes(progress)) throw new UsageError(`--progress ${progress}: expected auto, plain or tty`);
    const sdeText = str(values['source-date-epoch']) ?? env.SOURCE_DATE_EPOCH;
    const sde = sdeText === undefined || sdeText === '' ? undefined : Number(sdeText);
    if (sde !== undefined && (!Number.isInteger(sde) || sde < 0)) throw new UsageError(`--source-date-epoch ${sdeText}: expected seconds since the epoch`);
    // docker: --build-arg K without =V takes K from the environment (and is dropped when unset)
    const buildArgs = strs(values['build-arg']).flatMap((a) => (a.includes('=') ? [a] : env[a] !== undefined ? [`${a}=${env[a]}`] : []));
    const labels = strs(values.label).map((l) => (l.includes('=') ? l : `${l}=`));
    const ctxArg = positionals[0]!;
    const file = str(values.file);
    let body: Readable;
    let dockerfile: string | undefined;
    if (ctxArg === '-') {
      if (file === '-') throw new UsageError('cannot read both the context and the Dockerfile from stdin');
      body = stdin;
      dockerfile = file;
    } else {
      const dir = resolve(ctxArg);
      if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new UsageError(`unable to prepare context: path "${ctxArg}" not found`);
      let df: { name: string } | { text: string };
      if (file === '-') df = { text: (await readAll(stdin)).toString('utf8') };
      else {
        const path = resolve(file ?? resolve(dir, 'Dockerfile'));
        const rel = relative(dir, path);
        if (!(await stat(path).catch(() => undefined))?.isFile()) {
          stderr.write(`ERROR: failed to read dockerfile: open ${file ?? 'Dockerfile'}: no such file or directory\n`);
          return 1;
        }
        df = rel.startsWith('..') ? { text: await readFile(path, 'utf8') } : { name: rel.split('\\').join('/') };
      }
      const packed = await packContext(dir, df);
      body = packed.stream;
      dockerfile = packed.dockerfile;
    }
    const req: BuildRequest = {
      ...(strs(values.tag).length ? { tags: strs(values.tag) } : {}),
      ...(dockerfile ? { dockerfile } : {}),
      ...(str(values.target) !== undefined ? { target: str(values.target)! } : {}),
      ...(buildArgs.length ? { buildArgs } : {}),
      ...(labels.length ? { labels } : {}),
      ...(values['no-cache'] ? { noCache: true } : {}),
      ...(values.pull ? { pull: true } : {}),
      ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
    };
    const mode = progress === 'auto' ? (stderr.isTTY ? 'tty' : 'plain') : progress;
    const print = values.quiet ? undefined : buildPrinter(stderr, mode as 'plain' | 'tty');
    let failed = false;
    let started = false;
    const onEvent = (e: { type: string; event?: BuildEvent }): void => {
      if (e.type !== 'build' || !e.event) return;
      started = true;
      if (e.event.kind === 'error') failed = true;
      print?.(e.event);
    };
    let r;
    try {
      await client.ensureDaemon();
      r = await client.upload(Build.build, req, body, onEvent);
    } catch (e) {
      // unavailable before any event: the daemon is not there (main prints it); after: a registry was not
      if (!(e instanceof SbxError) || (e.code === 'unavailable' && !started)) throw e;
      if (!failed || values.quiet) stderr.write(`ERROR: ${e.message}\n`);
      return 1;
    }
    if (str(values.iidfile)) await writeFile(str(values.iidfile)!, r.Id);
    if (values.quiet) { stdout.write(`${r.Id}\n`); return; }
    stderr.write(`writing image ${r.Id} done\n`);
    for (const t of r.Tags) stderr.write(`naming to ${t} done\n`);
  },
};
