import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
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
    let cleanup: string | undefined;
    if (ctxArg === '-') {
      if (file === '-') throw new UsageError('cannot read both the context and the Dockerfile from stdin');
      // docker's GetContextFromReader: an archive is the context, anything else a Dockerfile with no context
      const { head, rest } = await peek(stdin, 512);
      if (isArchive(head)) {
        body = rest;
        dockerfile = file;
      } else {
        cleanup = await mkdtemp(resolve(tmpdir(), 'sbx-build-'));
        const packed = await packContext(cleanup, { text: (await readAll(rest)).toString('utf8') });
        body = packed.stream;
        dockerfile = packed.dockerfile;
      }
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
    } finally {
      if (cleanup) await rm(cleanup, { recursive: true, force: true });
    }
    if (str(values.iidfile)) await writeFile(str(values.iidfile)!, r.Id);
    if (values.quiet) { stdout.write(`${r.Id}\n`); return; }
    stderr.write(`writing image ${r.Id} done\n`);
    for (const t of r.Tags) stderr.write(`naming to ${t} done\n`);
  },
};

/** The first `n` bytes of `src` (fewer at its end), and a stream of all of it. */
async function peek(src: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = src[Symbol.asyncIterator]();
  while (size < n) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value as Buffer);
    size += (r.value as Buffer).length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) { const r = await it.next(); if (r.done) return; yield r.value as Buffer; }
  }
  return { head: head.subarray(0, n), rest: Readable.from(all()) };
}

/** docker's IsArchive: gzip, bzip2, xz or zstd magic, or a tar header whose checksum holds. */
export function isArchive(h: Buffer): boolean {
  const magics = [[0x1f, 0x8b], [0x42, 0x5a, 0x68], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x28, 0xb5, 0x2f, 0xfd]];
  if (magics.some((m) => m.every((b, i) => h[i] === b))) return true;
  if (h.length < 512) return false;
  const want = Number.parseInt(h.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return Number.isFinite(want) && want === sum;
}
