/**
 * `sbx inspect` of a container and of an image against docker's documented JSON
 * (test/fixtures/docker-inspect.ts), key by key with shapeGaps (test/_helpers/shape.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { shapeGaps } from './_helpers/shape.js';
import { eventually } from './_helpers/wait.js';
import { DOCKER_CONTAINER_INSPECT, DOCKER_IMAGE_INSPECT } from './fixtures/docker-inspect.js';

const s = suite<{ d: TestDaemon }>('inspect shape', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => {
  if (!ctx.d) return;
  await sbx(ctx.d.root, ['rm', '-f', 'shape']);
  await ctx.d.close();
});

s('container inspect has docker\'s keys and types', privileged(async ({ d }) => {
  const r = await sbx(d.root, ['run', '-d', '--name', 'shape', '-p', '127.0.0.1::80', '-v', 'data:/data', '--label', 'tier=web',
    '--health-cmd', 'true', '--health-interval', '200ms', '--stop-timeout', '5', 'busybox', 'sleep', '1000']);
  assert.is(r.code, 0, r.stderr);
  await eventually('healthy', async () => JSON.parse((await sbx(d.root, ['inspect', 'shape'])).stdout)[0].State.Health?.Status === 'healthy', 60_000);
  const out = await sbx(d.root, ['inspect', 'shape']);
  assert.is(out.code, 0, out.stderr);
  const [got] = JSON.parse(out.stdout) as unknown[];
  assert.equal(shapeGaps(DOCKER_CONTAINER_INSPECT, got, ''), []);
}));

s('image inspect has docker\'s keys and types', privileged(async ({ d }) => {
  const out = await sbx(d.root, ['image', 'inspect', 'busybox']);
  assert.is(out.code, 0, out.stderr);
  const [got] = JSON.parse(out.stdout) as unknown[];
  // not yet: an image's GraphDriver (its unpacked snapshot directories) is not shown
  assert.equal(shapeGaps(DOCKER_IMAGE_INSPECT, got, ''), ['.GraphDriver: missing']);
}));

s.run();
