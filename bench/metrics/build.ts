/**
 * Dockerfile builds: cold (no cache) and cached (same context again), `sbx build` vs
 * `buildah build --layers` on the same busybox base and the same three-step Containerfile; and
 * cold with a RUN writing 1,000 files before the RUN (the second RUN's container stands on the
 * first one's layer: kept as its snapshot, not unpacked again).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rmrf, tmpdir } from '../../test/_helpers/tmp.js';
import { side, type Metric } from '../harness.js';
import { image, needTools, needVerbs, type Fixtures } from '../fixtures.js';
import { run, timed, unique } from '../proc.js';

/** The Dockerfile's steps after FROM: COPY, RUN, CMD; `chain` puts a RUN writing 1,000 files before that RUN. */
async function context(fx: Fixtures, base: string, chain = false): Promise<string> {
  const dir = await tmpdir('sbx-bench-build-');
  fx.defer(() => rmrf(dir));
  await writeFile(join(dir, 'data.txt'), 'some data\n'.repeat(1000));
  await writeFile(join(dir, 'Dockerfile'), [
    `FROM ${base}`,
    'COPY data.txt /data.txt',
    ...(chain ? ['RUN mkdir /many && cd /many && i=0; while [ $i -lt 1000 ]; do echo $i > f$i; i=$((i+1)); done'] : []),
    'RUN echo built > /built.txt && wc -l /data.txt >> /built.txt',
    'CMD ["cat", "/built.txt"]',
    '',
  ].join('\n'));
  return dir;
}

function buildMetric(cached: boolean, chain = false): Metric<Fixtures> {
  return {
    id: `build.${cached ? 'cached' : 'cold'}${chain ? '.chain' : ''}.cli`,
    name: `build, ${cached ? 'cached (context unchanged)' : 'cold (--no-cache)'}: FROM busybox, COPY, ${chain ? 'RUN (1,000 files), ' : ''}RUN, CMD`,
    peer: `\`buildah build --layers${cached ? '' : ' --no-cache'}\``,
    unit: 'ms',
    async prepare(fx) {
      const tag = unique('bench-build');
      return {
        sbx: await side(async () => {
          needVerbs('build');
          const d = await fx.sbxd();
          const ctx = await context(fx, image(d), chain);
          const args = ['build', ...(cached ? [] : ['--no-cache']), '-t', `${tag}:v1`, ctx];
          if (cached) await d.cli(args, { timeoutMs: 300_000 });
          return () => timed('sbx build', () => d.cli(args, { timeoutMs: 300_000 }));
        }),
        peer: await side(async () => {
          await needTools('buildah');
          const p = await fx.podman();
          const ctx = await context(fx, p.image, chain);
          const args = ['build', '--layers', ...(cached ? [] : ['--no-cache']), '--format', 'oci', '-t', `localhost/${tag}:v1`, ctx];
          const buildah = (): ReturnType<typeof run> => run('buildah', args, { env: p.env, timeoutMs: 300_000 });
          if (cached) await buildah();
          fx.defer(async () => { await p.podman(['rmi', '-f', `localhost/${tag}:v1`]); });
          return () => timed('buildah build', buildah);
        }),
      };
    },
  };
}

export const buildMetrics: Metric<Fixtures>[] = [buildMetric(false), buildMetric(true), buildMetric(false, true)];
