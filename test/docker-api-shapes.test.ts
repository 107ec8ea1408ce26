/**
 * sbxd's docker routes answer docker's JSON shapes: each answer is compared, key by key and JSON
 * type by JSON type, with the Engine API reference's documented example (test/fixtures/docker-api.ts,
 * v1.41) by shapeGaps (test/_helpers/shape.ts). docker's omitempty fields may be absent; maps keyed
 * by data are checked value by value. The subject is a running container on a user network with a
 * published port, a label, a volume and a finished exec.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker, raw } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';
import { INSPECT_RULES, shapeGaps, type ShapeRules } from './_helpers/shape.js';
import { eventually } from './_helpers/wait.js';
import { DOCKER_CONTAINER_INSPECT } from './fixtures/docker-inspect.js';
import {
  DOCKER_CONTAINER_SUMMARY, DOCKER_EXEC_INSPECT, DOCKER_IMAGE_HISTORY, DOCKER_IMAGE_INSPECT_V141, DOCKER_IMAGE_SUMMARY, DOCKER_INFO,
  DOCKER_NETWORK, DOCKER_STATS, DOCKER_SYSTEM_DF, DOCKER_TOP, DOCKER_VERSION, DOCKER_VOLUME, DOCKER_VOLUME_LIST,
} from './fixtures/docker-api.js';

interface Ctx { d: TestDaemon; sock: string; id: string }
const test = suite<Ctx>('docker api shapes', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
  assert.is((await docker(ctx.sock, ['network', 'create', 'shapes'])).code, 0);
  const r = await docker(ctx.sock, ['run', '-d', '--name', 'subject', '--network', 'shapes', '-p', '127.0.0.1::80', '-l', 'tier=web',
    '-v', 'shapedata:/data', 'busybox', 'sleep', '1000'], { timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr);
  ctx.id = r.stdout.trim();
});
test.after(async (ctx) => {
  if (!ctx.d) return;
  await docker(ctx.sock, ['rm', '-f', 'subject']);
  await ctx.d.close();
});

/** docker's omitempty fields (and data-keyed maps) of one answer, beside the inspect rules. */
const rules = (omitempty: string[], keyed: string[] = []): ShapeRules => ({
  keyed: new Set([...INSPECT_RULES.keyed, ...keyed]),
  omitempty: new Set([...INSPECT_RULES.omitempty, ...omitempty]),
});
/** The omitempty fields of ContainerSummary (types.Container, types.Port, types.MountPoint). */
const SUMMARY_OMIT = ['IP', 'PublicPort', 'SizeRw', 'SizeRootFs', 'Type', 'Name', 'Driver'];
const VOLUME_OMIT = ['CreatedAt', 'Status', 'UsageData'];

async function get(sock: string, path: string): Promise<unknown> {
  const r = await raw(sock, 'GET', `/v1.41${path}`);
  assert.is(r.status, 200, `${path}: ${r.text}`);
  return JSON.parse(r.text);
}

test('system: /version, /info, /system/df', privileged<Ctx>(async ({ sock }) => {
  assert.equal(shapeGaps(DOCKER_VERSION, await get(sock, '/version'), '', rules(['Experimental', 'BuildTime'], ['Details'])), []);
  assert.equal(shapeGaps(DOCKER_INFO, await get(sock, '/info'), '',
    rules(['ProductLicense', 'DefaultAddressPools'], ['IndexConfigs', 'Runtimes'])), []);
  const df = await get(sock, '/system/df') as { Volumes: unknown[] };
  assert.equal(shapeGaps(DOCKER_SYSTEM_DF, df, '', rules([...SUMMARY_OMIT, ...VOLUME_OMIT], ['Status', 'Options'])), []);
  // the summary's omitempty Name and Driver are not a volume's: its own rules, and its usage shown
  assert.ok(df.Volumes.length > 0, 'the subject\'s volume is counted');
  assert.equal(shapeGaps([DOCKER_VOLUME], df.Volumes, '', rules(['CreatedAt', 'Status'], ['Status', 'Options'])), []);
}));

test('containers: /containers/json, /containers/{id}/json, top, stats', privileged<Ctx>(async ({ sock, id }) => {
  const list = await get(sock, '/containers/json') as Array<{ Ports: unknown[]; Labels: object }>;
  assert.is(list.length, 1);
  assert.is(list[0]!.Ports.length, 1, 'the published port is listed');
  assert.equal(shapeGaps([DOCKER_CONTAINER_SUMMARY], list, '', rules(SUMMARY_OMIT)), []);
  // a container without a health check or stop timeout has none (omitempty)
  assert.equal(shapeGaps(DOCKER_CONTAINER_INSPECT, await get(sock, `/containers/${id}/json`), '', rules(['Health', 'Healthcheck', 'StopTimeout'])), []);
  assert.equal(shapeGaps(DOCKER_TOP, await get(sock, `/containers/${id}/top`), '', rules([])), []);
  const stats = await get(sock, `/containers/${id}/stats?stream=false`);
  // docker's MemoryStats and PidsStats fields and CPUUsage.percpu_usage are omitempty
  assert.equal(shapeGaps(DOCKER_STATS, stats, '', rules(['percpu_usage', 'max_usage', 'failcnt'], ['networks', 'stats'])), []);
}));

test('images: /images/json, /images/{name}/json, history', privileged<Ctx>(async ({ sock }) => {
  assert.equal(shapeGaps([DOCKER_IMAGE_SUMMARY], await get(sock, '/images/json'), '', rules([])), []);
  // not yet: an image's GraphDriver (its unpacked snapshot directories) is not shown, as in `sbx image inspect`
  assert.equal(shapeGaps(DOCKER_IMAGE_INSPECT_V141, await get(sock, '/images/busybox/json'), '', rules(['OsVersion'])), ['.GraphDriver: missing']);
  assert.equal(shapeGaps(DOCKER_IMAGE_HISTORY, await get(sock, '/images/busybox/history'), '', rules([])), []);
}));

test('networks and volumes: list and inspect', privileged<Ctx>(async ({ sock }) => {
  const nets = await get(sock, '/networks') as Array<{ Name: string; Id: string }>;
  assert.equal(shapeGaps([DOCKER_NETWORK], nets, '', rules([], ['Containers', 'Options'])), []);
  const net = nets.find((n) => n.Name === 'shapes');
  assert.ok(net, 'the user network is listed');
  const one = await get(sock, `/networks/${net.Id}`) as { Containers: object };
  assert.is(Object.keys(one.Containers).length, 1, 'the subject is a member');
  assert.equal(shapeGaps(DOCKER_NETWORK, one, '', rules([], ['Containers', 'Options'])), []);
  assert.equal(shapeGaps(DOCKER_VOLUME_LIST, await get(sock, '/volumes'), '', rules(VOLUME_OMIT, ['Status', 'Options'])), []);
  assert.equal(shapeGaps(DOCKER_VOLUME, await get(sock, '/volumes/shapedata'), '', rules(VOLUME_OMIT, ['Status', 'Options'])), []);
}));

test('exec: /exec/{id}/json of a finished exec', privileged<Ctx>(async ({ sock, id }) => {
  const c = await raw(sock, 'POST', `/v1.41/containers/${id}/exec`, { Cmd: ['sh', '-c', 'exit 2'], AttachStdout: true });
  assert.is(c.status, 201, c.text);
  const exec = JSON.parse(c.text).Id as string;
  const st = await raw(sock, 'POST', `/v1.41/exec/${exec}/start`, { Detach: true });
  assert.is(st.status, 200, st.text);
  const done = await eventually('exec finished', async () => {
    const j = await get(sock, `/exec/${exec}/json`) as { Running: boolean };
    return j.Running ? undefined : j;
  }, 60_000);
  assert.equal(shapeGaps(DOCKER_EXEC_INSPECT, done, '', rules([])), []);
}));

test.run();
