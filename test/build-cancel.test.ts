/**
 * A build stopped by Ctrl-C (SIGINT to the CLI) or by its client going away (the CLI killed)
 * leaves nothing behind: no container (`sbx ps -a`), no mount under the daemon's root
 * (/proc/self/mountinfo), nothing in the daemon root's build temp dir, and no tag.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { buildSuite, type BuildContext } from './_helpers/build.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

const s = buildSuite('build: stopped builds leave nothing behind');

// two stages busy at once (one in a RUN, one in a RUN after a COPY --from view was used), a final
// stage that would tag; each RUN says it started, then blocks until killed
const DOCKERFILE = `FROM busybox AS a
RUN echo stage a started && exec busybox sleep 600

FROM busybox AS b
COPY --from=busybox /etc/passwd /copied
RUN echo stage b started && exec busybox sleep 600

FROM busybox
COPY --from=a /etc/passwd /a
COPY --from=b /copied /b
`;

/** Start `sbx build`, resolve once both stages said they started. */
async function startBuild(c: BuildContext) {
  await writeFile(join(c.ctx, 'Dockerfile'), DOCKERFILE);
  const child = spawn(SBX_BIN, ['build', '--progress', 'plain', '-t', 'stopped', c.ctx], {
    env: { ...process.env, SBX_ROOT: c.d.root, SBX_NO_AUTOSTART: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | string | null>((resolve) => child.on('close', (code, sig) => resolve(code ?? sig)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (/#\d+ [0-9.]+ stage a started/.test(stderr) && /#\d+ [0-9.]+ stage b started/.test(stderr)) resolve();
    });
    child.on('close', () => reject(new Error(`build ended before both stages ran: ${stderr}`)));
  });
  return { child, exited, stderr: () => stderr };
}

async function assertNothingLeft(c: BuildContext): Promise<void> {
  await eventually('no build container left', async () => (await sbx(c.d.root, ['ps', '-a', '-q'])).stdout === '', 20_000);
  await eventually('no mount under the daemon root', async () => !(await readFile('/proc/self/mountinfo', 'utf8')).includes(c.d.root), 20_000);
  await eventually('the build temp dir is empty', async () => (await readdir(join(c.d.root, 'build', 'tmp')).catch(() => [])).length === 0, 20_000);
  const insp = await sbx(c.d.root, ['image', 'inspect', 'stopped']);
  assert.is.not(insp.code, 0, 'nothing tagged');
  // the daemon is fine afterwards: a build works
  await writeFile(join(c.ctx, 'Dockerfile'), 'FROM busybox\nRUN echo after\n');
  const again = await sbx(c.d.root, ['build', '-q', '-t', 'after', c.ctx], { timeoutMs: 60000 });
  assert.is(again.code, 0, again.stderr);
}

s('Ctrl-C (SIGINT to sbx build): the CLI ends, no container, mount, temp file or tag', privileged(async (c) => {
  const b = await startBuild(c);
  const during = await readdir(join(c.d.root, 'build', 'tmp'));
  assert.ok(during.length > 0, 'the build has its temp dirs while it runs');
  assert.ok((await sbx(c.d.root, ['ps', '-a', '-q'])).stdout.trim().split('\n').length >= 2, 'two RUN containers at once');
  b.child.kill('SIGINT');
  const end = await b.exited;
  assert.ok(end === 'SIGINT' || end === 130, `sbx build ended by Ctrl-C: ${String(end)}`);
  await assertNothingLeft(c);
}));

s('the client going away (sbx build killed) stops the build the same way', privileged(async (c) => {
  const b = await startBuild(c);
  b.child.kill('SIGKILL');
  await b.exited;
  await assertNothingLeft(c);
}));

s('a failing stage stops the stages running beside it; its error is the one reported', privileged(async (c) => {
  await writeFile(join(c.ctx, 'Dockerfile'), `FROM busybox AS slow
RUN echo slow started && exec busybox sleep 600

FROM busybox AS failing
RUN echo failing now; exit 3

FROM busybox
COPY --from=slow /etc/passwd /a
COPY --from=failing /etc/passwd /b
`);
  const b = await sbx(c.d.root, ['build', '--progress', 'plain', '-t', 'stopped', c.ctx], { timeoutMs: 60000 });
  assert.is(b.code, 1, b.stderr);
  assert.match(b.stderr, /ERROR: Dockerfile:5: process "\/bin\/sh -c echo failing now; exit 3" did not complete successfully: exit code: 3/);
  await assertNothingLeft(c);
}));

s.run();
