/**
 * `run`/`create` pull a missing image as docker's do ("Unable to find image ... locally", then
 * the pull's progress on stderr), `--pull missing|always|never`, and the hint on an empty store
 * whose pull fails. The registry is the embedded one on loopback, with its own store.
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalContentStore } from '../daemon/content/local.js';
import { startRegistry, type RegistryServer } from '../daemon/registry/server.js';
import { silentLogger } from '../daemon/util/log.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; regDir: string; reg: RegistryServer }

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Put the local busybox into the registry as `ref`, leaving no local tag `ref`. */
async function publish(root: string, ref: string): Promise<void> {
  for (const args of [['tag', 'busybox', ref], ['push', ref], ['rmi', ref]]) await ok(root, args);
}

async function containers(root: string): Promise<string> {
  return ok(root, ['ps', '-a', '-q']);
}

const s = suite<Ctx>('run: pulls a missing image', {} as Ctx);
s.before.each(async (c) => {
  c.d = await startTestDaemon();
  c.regDir = await tmpdir('sbx-reg-');
  const content = await openLocalContentStore(join(c.regDir, 'oci'), join(c.regDir, 'ingest'));
  c.reg = await startRegistry({ content, root: join(c.regDir, 'registry'), log: silentLogger }, '127.0.0.1:0');
});
s.after.each(async (c) => {
  await c.reg.close();
  await c.d.close();
  await rmrf(c.regDir);
});

s('run IMAGE not here: "Unable to find image" on stderr, the pull, then the container runs; the next run does not pull', privileged(async ({ d, reg }) => {
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const ref = `${reg.host}/lib/bb:1`;
  await publish(d.root, ref);
  const r = await sbx(d.root, ['run', '--rm', ref, 'echo', 'ran from the pulled image']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'ran from the pulled image\n', 'only the container writes to stdout');
  assert.match(r.stderr, new RegExp(`^Unable to find image '${ref.replace(/\./g, '\\.')}' locally\n`));
  assert.match(r.stderr, /1: Pulling from 127\.0\.0\.1:\d+\/lib\/bb\n/);
  assert.match(r.stderr, /Status: Downloaded newer image for 127\.0\.0\.1:\d+\/lib\/bb:1\n/);
  assert.is((await sbx(d.root, ['image', 'inspect', ref])).code, 0, 'the image is tagged here after the run');

  const again = await sbx(d.root, ['run', '--rm', ref, 'true']);
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stderr, '', 'found here: no pull');

  // create pulls too
  const other = `${reg.host}/lib/other:2`;
  await publish(d.root, other);
  const c = await sbx(d.root, ['create', '--name', 'made', other]);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stderr, /Unable to find image '127\.0\.0\.1:\d+\/lib\/other:2' locally/);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/, 'stdout is the ID alone');
  await ok(d.root, ['rm', 'made']);
}));

s('--pull never refuses a missing image; --pull always pulls a present one; a bad value is exit 125; nothing created', privileged(async ({ d, reg }) => {
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const ref = `${reg.host}/lib/bb:1`;
  await publish(d.root, ref);

  const never = await sbx(d.root, ['run', '--pull', 'never', ref, 'true']);
  assert.is(never.code, 125);
  assert.match(never.stderr, /no such image/);
  assert.not.match(never.stderr, /Unable to find|Pulling/);
  assert.is((await sbx(d.root, ['image', 'inspect', ref])).code, 1, 'not pulled');

  const bad = await sbx(d.root, ['run', '--pull', 'sometimes', 'busybox', 'true']);
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /invalid argument "sometimes" for "--pull" flag: must be one of "always", "missing" or "never"/);
  assert.is(await containers(d.root), '', 'nothing created');

  await ok(d.root, ['pull', ref]);
  const always = await sbx(d.root, ['run', '--rm', '--pull', 'always', ref, 'echo', 'hi']);
  assert.is(always.code, 0, always.stderr);
  assert.is(always.stdout, 'hi\n');
  assert.not.match(always.stderr, /Unable to find/, 'it is here');
  assert.match(always.stderr, /Pulling from 127\.0\.0\.1:\d+\/lib\/bb\n/, 'pulled anyway');
  assert.match(always.stderr, /Status: Image is up to date for 127\.0\.0\.1:\d+\/lib\/bb:1\n/);

  // a missing image the registry does not have either: the pull's error, exit 125, nothing created
  const gone = await sbx(d.root, ['run', `${reg.host}/lib/nothere:1`, 'true']);
  assert.is(gone.code, 125);
  assert.match(gone.stderr, /Unable to find image '127\.0\.0\.1:\d+\/lib\/nothere:1' locally\n/);
  assert.not.match(gone.stderr, /sbx import --busybox/, 'the store has images: no hint');
  assert.is(await containers(d.root), '', 'nothing created');
}));

s('an empty store whose pull fails: the error says how to get a base image without network', async ({ d }) => {
  // nothing listens on port 1 of loopback: the pull fails at once, no traffic leaves the host
  for (const verb of ['run', 'create']) {
    const r = await sbx(d.root, [verb, '127.0.0.1:1/busybox', 'true']);
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Unable to find image '127\.0\.0\.1:1\/busybox:latest' locally\n/);
    assert.match(r.stderr, /To get a base image without network: sbx import --busybox\n$/);
    assert.is(await containers(d.root), '', 'nothing created');
  }
});

s.run();
