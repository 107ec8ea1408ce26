/**
 * sbx cp: docker cp. CONTAINER:SRC → host path or "-" (a tar on stdout), host path or "-" (a tar
 * on stdin) → CONTAINER:DEST, with docker's path rules (protocol/files.ts copyPlan), `-a` (keep
 * uid/gid), `-L` (follow a symlink SRC), "Successfully copied N to DEST" on stderr, and docker's
 * errors: "Error response from daemon: …" (or the local error), exit 1.
 */
import { lstat, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Files, SbxError, copyPlan, endsWithDot, splitCpArg, statIsDir, type CopyPlan, type PathStat,
} from '../../protocol/index.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { extractHost, packHost } from '../host-tar.js';
import { humanSize } from '../output.js';

const USAGE = 'sbx cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n        sbx cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH';

export const command: Command = {
  name: 'cp',
  summary: 'Copy files/folders between a container and the local filesystem',
  usage: USAGE,
  options: {
    archive: { type: 'boolean', short: 'a' },
    'follow-link': { type: 'boolean', short: 'L' },
    quiet: { type: 'boolean', short: 'q' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 2) throw new UsageError('"sbx cp" requires exactly 2 arguments.');
    const src = splitCpArg(positionals[0]!);
    const dst = splitCpArg(positionals[1]!);
    if (src.container !== undefined && dst.container !== undefined) throw new UsageError('copying between containers is not supported');
    if (src.container === undefined && dst.container === undefined) throw new UsageError('must specify at least one container source');
    const o = { archive: values.archive === true, follow: values['follow-link'] === true, quiet: values.quiet === true };
    try {
      const copied = src.container !== undefined
        ? await fromContainer(ctx, src.container, abs(src.path), dst.path, o.follow)
        : await toContainer(ctx, src.path, dst.container!, abs(dst.path), o);
      if (copied && !o.quiet) ctx.stderr.write(`Successfully copied ${humanSize(copied.bytes)} to ${copied.to}\n`);
      return 0;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      ctx.stderr.write(e instanceof SbxError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
      return 1;
    }
  },
};

/** Container paths are absolute (docker resolves "c1:etc" from "/"). */
function abs(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}

async function fromContainer(ctx: CliContext, id: string, path: string, dest: string, follow: boolean): Promise<{ bytes: number; to: string } | undefined> {
  const { client } = ctx;
  if (dest === '-') {
    await pipeline(await client.download(Files.archive, { id, path, follow }), ctx.stdout);
    return undefined;
  }
  const st = await client.call(Files.stat, { id, path, follow });
  const d = await stat(dest).catch(() => undefined);
  if (!d) {
    const parent = await stat(dirname(dest.replace(/\/+$/, '') || '/')).catch(() => undefined);
    if (!parent?.isDirectory()) throw new Error(`invalid output path: directory "${dirname(dest)}" does not exist`);
  }
  const v = copyPlan({ isDir: statIsDir(st), name: st.name, contentsOnly: endsWithDot(path) }, { path: dest, exists: !!d, isDir: !!d?.isDirectory() });
  if ('error' in v) throw new Error(v.error);
  const plan = rootPlan(st, v.plan);
  const counter = counting();
  await extractHost((await client.download(Files.archive, { id, path, follow })).pipe(counter.stream), plan.dir, plan.from, plan.to);
  return { bytes: counter.bytes(), to: dest };
}

async function toContainer(ctx: CliContext, src: string, id: string, path: string,
  o: { archive: boolean; follow: boolean }): Promise<{ bytes: number; to: string }> {
  const { client } = ctx;
  const counter = counting();
  const to = `${id}:${path}`;
  if (src === '-') {
    await client.upload(Files.extract, { id, path, copyUIDGID: o.archive, noOverwriteDirNonDir: true }, (ctx.stdin as Readable).pipe(counter.stream));
    return { bytes: counter.bytes(), to };
  }
  const s = await (o.follow ? stat(src) : lstat(src)).catch((e: NodeJS.ErrnoException) => {
    throw new Error(e.code === 'ENOENT' ? `lstat ${src}: no such file or directory` : e.message);
  });
  const dstStat = await client.call(Files.stat, { id, path, follow: true }).catch((e: unknown) => {
    if (e instanceof SbxError && e.code === 'not_found') return undefined;
    throw e;
  });
  const name = src.replace(/\/+\.?$/, '').split('/').pop() || src;
  const v = copyPlan({ isDir: s.isDirectory(), name, contentsOnly: endsWithDot(src) },
    { path, exists: !!dstStat, isDir: !!dstStat && statIsDir(dstStat) });
  if ('error' in v) throw new Error(v.error);
  const tar = await packHost(src, v.plan.to, o.follow);
  await client.upload(Files.extract, { id, path: v.plan.dir, copyUIDGID: o.archive, noOverwriteDirNonDir: true }, tar.pipe(counter.stream));
  return { bytes: counter.bytes(), to };
}

/** The container's root has no top entry in its archive: its children are the contents. */
function rootPlan(st: PathStat, plan: CopyPlan): CopyPlan {
  return st.name === '/' ? { ...plan, from: '' } : plan;
}

function counting(): { stream: Transform; bytes(): number } {
  let n = 0;
  return {
    stream: new Transform({ transform(chunk: Buffer, _e, cb) { n += chunk.length; cb(null, chunk); } }),
    bytes: () => n,
  };
}
