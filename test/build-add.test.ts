/**
 * ADD and COPY heredocs through the CLI against a real sbxd: local tar archives (plain, gzip,
 * bzip2, xz) are extracted with their modes and owners, a look-alike is copied as a file, an entry
 * escaping the destination fails the build naming the line, the cache follows the archive's
 * content; http(s) URLs are fetched by the daemon from a loopback server (0600, Last-Modified as
 * mtime, basename into a directory, --checksum checked, remote archives not extracted); heredocs
 * become files.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const pexec = promisify(execFile);

interface Ctx { d: TestDaemon; ctx: string }
const s = suite<Ctx>('build: ADD and COPY heredocs', {} as Ctx);
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

const build = (d: TestDaemon, args: string[]) => sbx(d.root, ['build', '--progress', 'plain', ...args], { timeoutMs: 120000 });
const inImage = async (d: TestDaemon, image: string, script: string): Promise<string> => {
  const r = await sbx(d.root, ['run', '--rm', image, 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
};

/** ctx/src/dir/f (0750, 1234:5678, "content") packed as NAME with the host's tar and compressors. */
async function archives(ctx: string, content: string): Promise<void> {
  const src = join(ctx, 'src');
  await rmrf(src);
  await mkdir(join(src, 'dir'), { recursive: true });
  await writeFile(join(src, 'dir', 'f'), content, { mode: 0o750 });
  await pexec('tar', ['-C', src, '--owner=1234', '--group=5678', '--numeric-owner', '-cf', join(ctx, 'plain.tar'), 'dir']);
  await pexec('sh', ['-c', `cd ${ctx} && gzip -c plain.tar > a.tar.gz && bzip2 -c plain.tar > a.tar.bz2 && xz -c plain.tar > a.tar.xz`]);
  await rmrf(src);
}

s('ADD extracts local tar archives (plain, gzip, bzip2, xz) with their modes and owners; others are copied', privileged(async ({ d, ctx }) => {
  await archives(ctx, 'content');
  await writeFile(join(ctx, 'notatar.gz'), gzipSync('just text\n'));
  await writeFile(join(ctx, 'Dockerfile'), [
    'FROM busybox',
    'ADD plain.tar /x/',
    'ADD a.tar.gz /gz',
    'ADD a.tar.bz2 /bz/',
    'ADD a.tar.xz /xz/',
    'ADD notatar.gz /files/',
    'COPY a.tar.gz /copied/',
    '',
  ].join('\n'));
  const b = await build(d, ['-t', 'added', ctx]);
  assert.is(b.code, 0, b.stderr);
  const out = await inImage(d, 'added', 'for p in /x /gz /bz /xz; do cat $p/dir/f; stat -c " %a %u:%g" $p/dir/f; done; ls /files /copied');
  assert.is(out, 'content 750 1234:5678\n'.repeat(4) + '/copied:\na.tar.gz\n\n/files:\nnotatar.gz\n');

  // the cache key covers the archive's content (not its mtime)
  const again = await build(d, ['-t', 'added', ctx]);
  assert.is((again.stderr.match(/CACHED/g) ?? []).length, 6, again.stderr);
  await archives(ctx, 'changed');
  const b3 = await build(d, ['-t', 'added', ctx]);
  assert.is(b3.code, 0, b3.stderr);
  assert.not.match(b3.stderr, /#2 CACHED/);
  assert.is(await inImage(d, 'added', 'cat /x/dir/f /xz/dir/f'), 'changedchanged');
}));

s('ADD of an archive whose entry leaves the destination fails naming the line; nothing is written outside', privileged(async ({ d, ctx }) => {
  const pack = tarStream.pack();
  pack.entry({ name: 'ok.txt' }, 'fine\n');
  pack.entry({ name: '../../../../../../../../tmp/sbx-add-escape' }, 'evil\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await writeFile(join(ctx, 'evil.tar'), Buffer.concat(chunks));
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nADD evil.tar /x/\n');
  const b = await build(d, ['-t', 'evil', ctx]);
  assert.is(b.code, 1, b.stderr);
  assert.match(b.stderr, /Dockerfile:2: ADD evil\.tar: .*escapes/);
  assert.is(await stat('/tmp/sbx-add-escape').catch(() => undefined), undefined);
  assert.is.not((await sbx(d.root, ['image', 'inspect', 'evil'])).code, 0, 'nothing is tagged');
}));

/** A loopback HTTP server: /files/hello.txt (with Last-Modified), /a.tar.gz. */
async function serve(ctx: string): Promise<{ server: Server; base: string; requests: string[] }> {
  const tgz = await readFile(join(ctx, 'a.tar.gz'));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/files/hello.txt') {
      res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT', 'Content-Type': 'text/plain' });
      res.end('hello over http\n');
    } else if (req.url === '/a.tar.gz') {
      res.end(tgz);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

s('ADD URL: fetched by the daemon, 0600, Last-Modified as mtime, named after the URL, --checksum verified, not extracted', privileged(async ({ d, ctx }) => {
  await archives(ctx, 'content');
  const { server, base, requests } = await serve(ctx);
  try {
    const sum = createHash('sha256').update('hello over http\n').digest('hex');
    await writeFile(join(ctx, 'Dockerfile'), [
      'FROM busybox',
      `ADD ${base}/files/hello.txt /dl/`,
      `ADD --checksum=sha256:${sum} ${base}/files/hello.txt /named.txt`,
      `ADD ${base}/a.tar.gz /remote/`,
      '',
    ].join('\n'));
    const b = await build(d, ['-t', 'fetched', ctx]);
    assert.is(b.code, 0, b.stderr);
    assert.ok(requests.includes('/files/hello.txt') && requests.includes('/a.tar.gz'), requests.join(','));
    const out = await inImage(d, 'fetched', 'cat /dl/hello.txt /named.txt; stat -c "%a %u:%g %Y" /dl/hello.txt /named.txt; ls /remote');
    const mtime = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT') / 1000;
    assert.is(out, `hello over http\nhello over http\n600 0:0 ${mtime}\n600 0:0 ${mtime}\na.tar.gz\n`);

    await writeFile(join(ctx, 'Dockerfile'), `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/files/hello.txt /bad.txt\n`);
    const bad = await build(d, ['-t', 'badsum', ctx]);
    assert.is(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, new RegExp(`Dockerfile:2: ADD ${base}/files/hello.txt: checksum mismatch: expected sha256:0{64}, got sha256:${sum}`));
    assert.is.not((await sbx(d.root, ['image', 'inspect', 'badsum'])).code, 0, 'nothing is tagged');

    await writeFile(join(ctx, 'Dockerfile'), `FROM busybox\nADD ${base}/missing /m\n`);
    const missing = await build(d, [ctx]);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /Dockerfile:2: ADD http:\/\/127\.0\.0\.1:\d+\/missing: invalid response status 404/);
  } finally {
    server.close();
  }
}));

s('COPY/ADD heredocs: one onto a file path, several into a directory, variables expanded', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), [
    'FROM busybox',
    'ARG NAME=world',
    'COPY <<EOF /etc/motd',
    'hello $NAME',
    'EOF',
    'ADD <<a.txt <<"b.txt" /docs/',
    'A $NAME',
    'a.txt',
    'B $NAME',
    'b.txt',
    '',
  ].join('\n'));
  const b = await build(d, ['-t', 'docs', ctx]);
  assert.is(b.code, 0, b.stderr);
  const out = await inImage(d, 'docs', 'cat /etc/motd /docs/a.txt /docs/b.txt; stat -c %a /etc/motd /docs/a.txt');
  assert.is(out, 'hello world\nA world\nB $NAME\n644\n644\n');
}));

s.run();
