/**
 * `sbx inspect` of a container and of an image against docker's documented JSON
 * (test/fixtures/docker-inspect.ts), key by key: every key docker has is there with docker's JSON
 * type (a Go nil slice/map/pointer may be null on either side); maps keyed by data (labels,
 * ports, networks) are compared value by value against docker's first entry.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';
import { DOCKER_CONTAINER_INSPECT, DOCKER_IMAGE_INSPECT } from './fixtures/docker-inspect.js';

const s = suite<{ d: TestDaemon }>('inspect shape', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => {
  if (!ctx.d) return;
  await sbx(ctx.d.root, ['rm', '-f', 'shape']);
  await ctx.d.close();
});

/** Maps whose keys are data: each value is checked against the fixture's first value. */
const KEYED = new Set(['Labels', 'PortBindings', 'Ports', 'Networks', 'Data', 'Volumes', 'ExposedPorts', 'Config.Config']);
/** docker's omitempty fields: absent when unset (the container here sets StopTimeout and a health check). */
const OMITEMPTY = new Set(['StopSignal', 'Variant', 'ExposedPorts']);
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Where `got` differs from docker's shape `want`: "Path.To.Key: what". */
export function shapeGaps(want: unknown, got: unknown, path: string, name = ''): string[] {
  const kw = kind(want);
  const kg = kind(got);
  if (kw !== kg) {
    const nilable = (k: string): boolean => k === 'array' || k === 'object';
    if ((kw === 'null' && nilable(kg)) || (kg === 'null' && nilable(kw))) return [];
    return [`${path}: docker has ${kw}, sbx ${kg}`];
  }
  if (kw === 'array') {
    const [first] = want as unknown[];
    return first === undefined ? [] : (got as unknown[]).flatMap((g, i) => shapeGaps(first, g, `${path}[${i}]`));
  }
  if (kw !== 'object') return [];
  const w = want as Record<string, unknown>;
  const g = got as Record<string, unknown>;
  if (KEYED.has(name)) {
    const first = Object.values(w)[0];
    return first === undefined ? [] : Object.entries(g).flatMap(([k, v]) => shapeGaps(first, v, `${path}[${k}]`));
  }
  return Object.keys(w).flatMap((k) => {
    if (k in g) return shapeGaps(w[k], g[k], `${path}.${k}`, k === 'Config' && name === 'LogConfig' ? 'Config.Config' : k);
    return OMITEMPTY.has(k) ? [] : [`${path}.${k}: missing`];
  });
}

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
