/**
 * sbx build through the CLI against a real sbxd: the seed's web-ping Dockerfile builds, runs and
 * shows docker's history; a rebuild is all CACHED; editing app.js busts from the COPY on while
 * `touch app.js` keeps the cache; RUN output and a failing RUN (exit code, line, nothing tagged).
 */
import { execFileSync } from 'node:child_process';
import { readFile, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chainIds } from '../daemon/images/unpack.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const s = suite<{ d: TestDaemon; ctx: string }>('build: through the CLI', {} as { d: TestDaemon; ctx: string });
s.before.each(async (c) => {
  c.d = await startTestDaemon();
  c.ctx = await tmpdir();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(c.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after.each(async (c) => {
  await c.d.close();
  await rmrf(c.ctx);
});

const WEB_PING = `FROM busybox
ENV TARGET="example.com" \\
    METHOD="HEAD" \\
    INTERVAL="3000"
WORKDIR /web-ping
COPY app.js .
CMD ["sh", "/web-ping/app.js"]
`;

async function build(d: TestDaemon, args: string[]) {
  return sbx(d.root, ['build', '--progress', 'plain', ...args], { timeoutMs: 120000 });
}

s('web-ping builds, runs, has docker history; rebuild CACHED; edit busts from COPY; touch keeps', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), WEB_PING);
  await writeFile(join(ctx, 'app.js'), 'echo "pinging $TARGET with $METHOD every $INTERVAL"\n');
  const b1 = await build(d, ['-t', 'web-ping', ctx]);
  assert.is(b1.code, 0, b1.stderr);
  assert.ok(/#1 \[0 1\/5\] FROM busybox/.test(b1.stderr), b1.stderr);
  assert.match(b1.stderr, /#4 \[0 4\/5\] COPY app\.js \./);
  assert.not.match(b1.stderr, /CACHED/);
  const run = await sbx(d.root, ['run', '--rm', 'web-ping']);
  assert.is(run.stdout, 'pinging example.com with HEAD every 3000\n', run.stderr);
  const hist = await sbx(d.root, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'web-ping']);
  const rows = hist.stdout.trim().split('\n');
  assert.is(rows[0], '/bin/sh -c #(nop)  CMD ["sh" "/web-ping/app.js"]', hist.stdout);
  assert.match(rows[1]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \. $/);
  assert.is(rows[2], '/bin/sh -c #(nop) WORKDIR /web-ping');
  assert.is(rows[3], '/bin/sh -c #(nop)  ENV TARGET=example.com METHOD=HEAD INTERVAL=3000');
  const id1 = JSON.parse((await sbx(d.root, ['image', 'inspect', 'web-ping'])).stdout)[0].Id;

  const b2 = await build(d, ['-t', 'web-ping', ctx]);
  assert.is(b2.code, 0, b2.stderr);
  assert.is((b2.stderr.match(/CACHED/g) ?? []).length, 4, b2.stderr);
  const id2 = JSON.parse((await sbx(d.root, ['image', 'inspect', 'web-ping'])).stdout)[0].Id;
  assert.is(id2, id1);

  const later = new Date(Date.now() + 60_000);
  await utimes(join(ctx, 'app.js'), later, later);
  const b3 = await build(d, ['-q', '-t', 'web-ping', ctx]);
  assert.is(b3.stdout.trim(), id1, 'touch app.js keeps every step cached');

  await writeFile(join(ctx, 'app.js'), 'echo edited\n');
  const b4 = await build(d, ['-t', 'web-ping', ctx]);
  assert.is(b4.code, 0, b4.stderr);
  assert.match(b4.stderr, /#3 CACHED/);
  assert.not.match(b4.stderr, /#4 CACHED/);
  assert.not.match(b4.stderr, /#5 CACHED/);
  assert.is((await sbx(d.root, ['run', '--rm', 'web-ping'])).stdout, 'edited\n');
}));

s('RUN: output shown, layer committed; a failing RUN names the line, exits 1, tags nothing', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo hello from run && mkdir /made && echo x > /made/f\nRUN ["sh", "-c", "echo exec form >&2"]\n');
  const b = await build(d, ['-t', 'ran', ctx]);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /#2 [0-9.]+ hello from run/);
  assert.match(b.stderr, /#3 [0-9.]+ exec form/);
  assert.is((await sbx(d.root, ['run', '--rm', 'ran', 'cat', '/made/f'])).stdout, 'x\n');
  const hist = await sbx(d.root, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'ran']);
  assert.is(hist.stdout.split('\n')[1], '/bin/sh -c echo hello from run && mkdir /made && echo x > /made/f');
  assert.is((await sbx(d.root, ['ps', '-a', '-q'])).stdout, '', 'no build container is left');

  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo before\nRUN echo failing; exit 3\nCMD ["true"]\n');
  const f = await build(d, ['-t', 'broken', ctx]);
  assert.is(f.code, 1, f.stderr);
  assert.match(f.stderr, /Dockerfile:3: process "\/bin\/sh -c echo failing; exit 3" did not complete successfully: exit code: 3/);
  assert.match(f.stderr, /failing/);
  const insp = await sbx(d.root, ['image', 'inspect', 'broken']);
  assert.is.not(insp.code, 0, 'nothing is tagged');
  assert.is((await sbx(d.root, ['ps', '-a', '-q'])).stdout, '');
}));

s('bad input: missing Dockerfile, unknown instruction, missing COPY source, ../ escape', privileged(async ({ d, ctx }) => {
  const none = await build(d, [ctx]);
  assert.is(none.code, 1);
  assert.match(none.stderr, /Dockerfile: no such file or directory/);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUNN echo\n');
  assert.match((await build(d, [ctx])).stderr, /Dockerfile:2: unknown instruction: RUNN/i);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY nothere /x\n');
  const miss = await build(d, [ctx]);
  assert.is(miss.code, 1);
  assert.match(miss.stderr, /Dockerfile:2: "\/nothere": not found/);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nWORKDIR /a\nCOPY ../x /x\n');
  assert.match((await build(d, [ctx])).stderr, /Dockerfile:3: forbidden path outside the build context: \.\.\/x/);
  await mkdir(join(ctx, 'sub'));
}));

s('build - : a Dockerfile on stdin builds with no context, a tar on stdin is the context (docker\'s rule)', privileged(async ({ d, ctx }) => {
  const plain = await sbx(d.root, ['build', '-q', '-t', 'fromstdin', '-'], { input: Buffer.from('FROM busybox\nLABEL via=stdin\nRUN echo built > /built\n') });
  assert.is(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const run = await sbx(d.root, ['run', '--rm', 'fromstdin', 'cat', '/built']);
  assert.is(run.stdout, 'built\n');
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY hello /hello\n');
  await writeFile(join(ctx, 'hello'), 'from the tar\n');
  const tarball = execFileSync('tar', ['-C', ctx, '-c', 'Dockerfile', 'hello']);
  const fromTar = await sbx(d.root, ['build', '-q', '-t', 'fromtar', '-'], { input: tarball });
  assert.is(fromTar.code, 0, fromTar.stderr);
  assert.is((await sbx(d.root, ['run', '--rm', 'fromtar', 'cat', '/hello'])).stdout, 'from the tar\n');
  const copy = await sbx(d.root, ['build', '-q', '-'], { input: Buffer.from('FROM busybox\nCOPY hello /hello\n') });
  assert.is(copy.code, 1, 'no context: nothing to copy');
}));

s('RUN steps keep their containers\' snapshots as the layers\' (no unpack of what was just packed)', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo one > /one\nRUN cat /one > /two && echo two >> /two\n');
  const b = await build(d, ['-t', 'kept', ctx]);
  assert.is(b.code, 0, b.stderr);
  const layers: string[] = JSON.parse((await sbx(d.root, ['image', 'inspect', 'kept'])).stdout)[0].RootFS.Layers;
  const chain = chainIds(layers as `sha256:${string}`[]);
  const meta = JSON.parse(await readFile(join(d.root, 'snapshots', 'metadata.json'), 'utf8')).snapshots;
  // Made in the step's container (its label), committed as the layer: neither RUN layer was unpacked.
  for (const c of chain.slice(-2)) {
    assert.is(meta[c]?.kind, 'committed', c);
    assert.ok(meta[c].labels['sbx.container'], `${c} comes from a step container: ${JSON.stringify(meta[c])}`);
  }
  const run = await sbx(d.root, ['run', '--rm', 'kept', 'cat', '/two']);
  assert.is(run.stdout, 'one\ntwo\n', run.stderr);
}));

s.run();
