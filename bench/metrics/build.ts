/**
 * Dockerfile builds, `sbx build` (CLI) and POST /v1/build (API, one long-running process) vs
 * `buildah build --layers`, on the same base: the bench's busybox tar imported into sbx
 * (`sbx import TAR`) and into podman/buildah's store (`podman import TAR`).
 *
 * - cold: `--no-cache` of FROM busybox / ENV / WORKDIR / COPY 1 MB / RUN / CMD.
 * - cached: the same context again, every step cached (warmed once, untimed).
 * - edit: a 200-file context (COPY . .) with one file edited before each sample (untimed):
 *   the time to a rebuilt image (the COPY and the RUN after it run again).
 * - chain: cold, with a RUN writing 1,000 files before a second RUN (which stands on the first
 *   one's kept snapshot, not unpacked again). CLI only.
 * The API rows pack the context directory into a tar inside the clock (as the CLI does), so
 * they differ from the CLI rows by the CLI's own start and its progress printing only.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packContext } from '../../cli/build-context.js';
import { Build, type BuildRequest } from '../../protocol/index.js';
import { rmrf, tmpdir } from '../../test/_helpers/tmp.js';
import { side, time, type Metric, type Side } from '../harness.js';
import { needTools, needVerbs, type Fixtures, type Sbxd } from '../fixtures.js';
import { ok, run, timed, unique } from '../proc.js';

type Kind = 'cold' | 'cached' | 'edit' | 'chain';
type Via = 'cli' | 'api';

const SMALL = (base: string): string => [
  `FROM ${base}`,
  'ENV APP_HOME=/srv/app MODE=bench',
  'WORKDIR $APP_HOME',
  'COPY data.bin ./data.bin',
  'RUN wc -c data.bin > size.txt && echo built >> size.txt',
  'CMD ["cat", "size.txt"]',
  '',
].join('\n');

const MANY = (base: string): string => [
  `FROM ${base}`,
  'ENV APP_HOME=/srv/app',
  'WORKDIR $APP_HOME',
  'COPY src/ ./src/',
  'RUN ls src | wc -l > count.txt',
  'CMD ["cat", "count.txt"]',
  '',
].join('\n');

const CHAIN = (base: string): string => [
  `FROM ${base}`,
  'COPY data.bin /data.bin',
  'RUN mkdir /many && cd /many && i=0; while [ $i -lt 1000 ]; do echo $i > f$i; i=$((i+1)); done',
  'RUN echo built > /built.txt && wc -c /data.bin >> /built.txt',
  'CMD ["cat", "/built.txt"]',
  '',
].join('\n');

/** A context dir for one side: the 1 MB one (cold, cached, chain) or the 200-file one (edit). */
async function context(fx: Fixtures, kind: Kind, base: string): Promise<string> {
  const dir = await tmpdir('sbx-bench-build-');
  fx.defer(() => rmrf(dir));
  if (kind === 'edit') {
    await mkdir(join(dir, 'src'));
    for (let i = 0; i < 200; i++) await writeFile(join(dir, 'src', `f${String(i).padStart(3, '0')}.txt`), `file ${i}\n${'x'.repeat(2000)}\n`);
    await writeFile(join(dir, 'Dockerfile'), MANY(base));
  } else {
    await writeFile(join(dir, 'data.bin'), randomBytes(1 << 20));
    await writeFile(join(dir, 'Dockerfile'), kind === 'chain' ? CHAIN(base) : SMALL(base));
  }
  return dir;
}

/** The bench's busybox tar as an sbx image (the same bytes podman imports). */
function sbxBase(fx: Fixtures, d: Sbxd): Promise<string> {
  return fx.once('sbx-busybox-tar', async () => {
    needVerbs('import', 'build');
    const tar = await fx.busyboxTar();
    await ok('sbx import', d.cli(['import', '--change', 'CMD ["/bin/sh"]', tar, 'bench-busybox:tar'], { timeoutMs: 120_000 }));
    return 'bench-busybox:tar';
  });
}

/** Before each edit sample (untimed): one of the 200 files gets new content. */
function editor(ctx: string): () => Promise<void> {
  let n = 0;
  return () => writeFile(join(ctx, 'src', 'f100.txt'), `edited ${++n} ${Date.now()}\n`);
}

function buildMetric(kind: Kind, via: Via): Metric<Fixtures> {
  const what = kind === 'edit'
    ? '200-file context, one file edited → rebuilt image: FROM, ENV, WORKDIR, COPY 200 files, RUN, CMD'
    : kind === 'chain' ? 'cold (--no-cache): FROM busybox, COPY 1 MB, RUN (1,000 files), RUN, CMD'
    : `${kind === 'cold' ? 'cold (--no-cache)' : 'fully cached (context unchanged)'}: FROM busybox, ENV, WORKDIR, COPY 1 MB, RUN, CMD`;
  const noCache = kind === 'cold' || kind === 'chain';
  return {
    id: `build.${kind}.${via}`,
    name: `build ${what} (${via === 'cli' ? 'CLI: `sbx build`' : 'API: POST /v1/build'})`,
    peer: `\`buildah build --layers${noCache ? ' --no-cache' : ''}\``,
    unit: 'ms',
    timeoutMs: 300_000,
    async prepare(fx) {
      const tag = unique('bench-build');
      return {
        sbx: await side(async (): Promise<Side> => {
          const d = await fx.sbxd();
          const ctx = await context(fx, kind, await sbxBase(fx, d));
          const once = via === 'cli'
            ? () => ok('sbx build', d.cli(['build', '--progress', 'plain', ...(noCache ? ['--no-cache'] : []), '-t', `${tag}:v1`, ctx], { timeoutMs: 300_000 }))
            : async () => {
              const packed = await packContext(ctx, { name: 'Dockerfile' });
              const req: BuildRequest = { tags: [`${tag}:v1`], ...(noCache ? { noCache: true } : {}) };
              return d.client.upload(Build.build, req, packed.stream, () => undefined);
            };
          const edit = kind === 'edit' ? editor(ctx) : undefined;
          if (!noCache) await once();
          return async () => { if (edit) await edit(); return time(once); };
        }),
        peer: await side(async (): Promise<Side> => {
          await needTools('buildah');
          const p = await fx.podman();
          const ctx = await context(fx, kind, p.image);
          const args = ['build', '--layers', ...(noCache ? ['--no-cache'] : []), '--format', 'oci', '-t', `localhost/${tag}:v1`, ctx];
          const buildah = (): ReturnType<typeof run> => run('buildah', args, { env: p.env, timeoutMs: 300_000 });
          fx.defer(async () => { await p.podman(['rmi', '-f', `localhost/${tag}:v1`]); });
          const edit = kind === 'edit' ? editor(ctx) : undefined;
          if (!noCache) await ok('buildah build', buildah());
          return async () => { if (edit) await edit(); return timed('buildah build', buildah); };
        }),
      };
    },
  };
}

export const buildMetrics: Metric<Fixtures>[] = (['cold', 'cached', 'edit'] as const)
  .flatMap((k) => (['cli', 'api'] as const).map((v) => buildMetric(k, v)))
  .concat(buildMetric('chain', 'cli'));
