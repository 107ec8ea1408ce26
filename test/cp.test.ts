/**
 * sbx cp and sbx export through the CLI, as a docker user types them: both directions on a
 * running and a stopped container, "-" tar streams, docker's path rules and errors, links a
 * container plants (they resolve inside its root, never on the host), the journal, diff and
 * commit seeing what was copied in, and export's tree.
 */
import { spawn } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import tar from 'tar-stream';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; host: string }

/** The CLI with binary stdin/stdout (tar streams). */
function sbxRaw(root: string, args: string[], input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SBX_BIN, args, { env: { ...process.env, SBX_ROOT: root, SBX_NO_AUTOSTART: '1' } });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input);
  });
}

async function entries(archive: Buffer): Promise<Map<string, { type: string; body: string; linkname?: string; uid: number }>> {
  const ex = tar.extract();
  const out = new Map<string, { type: string; body: string; linkname?: string; uid: number }>();
  Readable.from([archive]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e as AsyncIterable<Buffer>) chunks.push(c);
    const v: { type: string; body: string; linkname?: string; uid: number } = { type: e.header.type ?? 'file', body: Buffer.concat(chunks).toString(), uid: e.header.uid ?? 0 };
    if (e.header.linkname) v.linkname = e.header.linkname;
    out.set(e.header.name, v);
  }
  return out;
}

async function makeTar(files: { name: string; body?: string; type?: 'file' | 'directory'; uid?: number }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) {
    if (f.type === 'directory') pack.entry({ name: f.name, type: 'directory', mode: 0o755, uid: f.uid ?? 0, gid: f.uid ?? 0 });
    else pack.entry({ name: f.name, mode: 0o644, uid: f.uid ?? 0, gid: f.uid ?? 0 }, f.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The same behaviour over both snapshotters: writes and reads never depend on the format.
for (const snapshotter of ['overlay', 'native'] as const) {
  const s = suite<Ctx>(`sbx cp / sbx export (${snapshotter})`, {} as Ctx);
  s.before.each(async (ctx) => {
    ctx.d = await startTestDaemon({ snapshotter });
    ctx.host = await tmpdir('sbx-cp-host-');
    if (process.getuid?.() !== 0) return;
    await ok(ctx.d.root, ['import', '--busybox', 'busybox']);
  });
  s.after.each(async (ctx) => {
    await sbx(ctx.d.root, ['rm', '-f', 'c1', 'c2', 'c3']).catch(() => undefined);
    await ctx.d.close();
    await rmrf(ctx.host);
  });

  s('running container: out and in, docker path rules, "Successfully copied", journal and diff', privileged(async ({ d, host }) => {
    await ok(d.root, ['run', '-d', '--name', 'c1', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo hello > /data/a.txt && echo deep > /data/sub/b && touch /ready && sleep 1000']);
    await ok(d.root, ['exec', 'c1', 'sh', '-c', 'while [ ! -e /ready ]; do :; done']);
    // container → host: a file onto a new name, a directory into an existing directory, "dir/." as contents
    const out = await sbx(d.root, ['cp', 'c1:/data/a.txt', join(host, 'copy.txt')]);
    assert.is(out.code, 0, out.stderr);
    assert.is(await readFile(join(host, 'copy.txt'), 'utf8'), 'hello\n');
    assert.match(out.stderr, new RegExp(`^Successfully copied [0-9.]+kB to ${join(host, 'copy.txt')}\\n$`));
    await ok(d.root, ['cp', 'c1:/data', host]);
    assert.is(await readFile(join(host, 'data', 'sub', 'b'), 'utf8'), 'deep\n');
    await mkdir(join(host, 'contents'));
    await ok(d.root, ['cp', 'c1:/data/.', join(host, 'contents')]);
    assert.equal((await readdir(join(host, 'contents'))).sort(), ['a.txt', 'sub']);
    const slash = await sbx(d.root, ['cp', 'c1:/data/a.txt', join(host, 'nodir') + '/']);
    assert.is(slash.code, 1);
    assert.match(slash.stderr, /no such directory/);

    // host → container: a directory, and a file into an existing directory; -a keeps owners
    await mkdir(join(host, 'site'));
    await writeFile(join(host, 'site', 'index.html'), '<h1>copied</h1>\n');
    const put = await sbx(d.root, ['cp', join(host, 'site'), 'c1:/www']);
    assert.is(put.code, 0, put.stderr);
    assert.match(put.stderr, /^Successfully copied [0-9.]+kB to c1:\/www\n$/);
    assert.is(await ok(d.root, ['exec', 'c1', 'cat', '/www/index.html']), '<h1>copied</h1>\n');
    assert.is(await ok(d.root, ['exec', 'c1', 'stat', '-c', '%u:%g', '/www/index.html']), '0:0\n');
    await writeFile(join(host, 'owned'), 'x');
    const { chown } = await import('node:fs/promises');
    await chown(join(host, 'owned'), 1234, 5678);
    await ok(d.root, ['cp', '-a', join(host, 'owned'), 'c1:/tmp/']);
    await ok(d.root, ['cp', join(host, 'owned'), 'c1:/tmp/plain']);
    assert.is(await ok(d.root, ['exec', 'c1', 'stat', '-c', '%u:%g', '/tmp/owned', '/tmp/plain']), '1234:5678\n0:0\n');

    const diff = await ok(d.root, ['diff', 'c1']);
    assert.match(diff, /^A \/www$/m);
    assert.match(diff, /^A \/www\/index\.html$/m);
    const ev = await ok(d.root, ['events', 'c1']);
    assert.match(ev, /\tA\t\/www\/index\.html/);
  }));

  s('stopped container: out and in; the copied file is in diff and survives commit', privileged(async ({ d, host }) => {
    await ok(d.root, ['run', '--name', 'c2', 'busybox', 'sh', '-c', 'echo made-inside > /made.txt']);
    await ok(d.root, ['cp', 'c2:/made.txt', host]);
    assert.is(await readFile(join(host, 'made.txt'), 'utf8'), 'made-inside\n');
    await writeFile(join(host, 'app.conf'), 'port=80\n');
    await ok(d.root, ['cp', join(host, 'app.conf'), 'c2:/etc/app.conf']);
    assert.match(await ok(d.root, ['diff', 'c2']), /^A \/etc\/app\.conf$/m);
    assert.match(await ok(d.root, ['events', 'c2']), /\tA\t\/etc\/app\.conf/);
    await ok(d.root, ['commit', 'c2', 'withconf:1']);
    assert.is(await ok(d.root, ['run', '--rm', 'withconf:1', 'cat', '/etc/app.conf', '/made.txt']), 'port=80\nmade-inside\n');
  }));

  s('"-" as a tar stream both ways; export is the merged tree without whiteouts', privileged(async ({ d }) => {
    await ok(d.root, ['run', '--name', 'c2', 'busybox', 'sh', '-c', 'mkdir /d && echo one > /d/f && rm /etc/motd 2>/dev/null; ln -s f /d/l']);
    const out = await sbxRaw(d.root, ['cp', 'c2:/d', '-']);
    assert.is(out.code, 0, out.stderr);
    assert.is(out.stderr, '');
    const got = await entries(out.stdout);
    assert.equal([...got.keys()].sort(), ['d/', 'd/f', 'd/l']);
    assert.is(got.get('d/f')!.body, 'one\n');
    assert.is(got.get('d/l')!.linkname, 'f');

    const input = await makeTar([{ name: 'in/', type: 'directory' }, { name: 'in/x', body: 'from stdin\n', uid: 42 }]);
    const put = await sbxRaw(d.root, ['cp', '-a', '-', 'c2:/tmp'], input);
    assert.is(put.code, 0, put.stderr);
    await ok(d.root, ['commit', 'c2', 'fromtar:1']);
    assert.is(await ok(d.root, ['run', '--rm', 'fromtar:1', 'sh', '-c', 'cat /tmp/in/x; stat -c %u /tmp/in/x']), 'from stdin\n42\n');

    const exp = await sbxRaw(d.root, ['export', 'c2']);
    assert.is(exp.code, 0, exp.stderr);
    const tree = await entries(exp.stdout);
    assert.is(tree.get('d/f')?.body, 'one\n');
    assert.is(tree.get('tmp/in/x')?.body, 'from stdin\n');
    assert.ok(tree.has('bin/busybox') || tree.has('bin/sh'), 'the image\'s files are in the export');
    assert.ok(![...tree.keys()].some((n) => n.split('/').some((c) => c.startsWith('.wh.'))), 'no whiteouts');
    assert.ok(!tree.has('etc/motd'), 'a deleted file is not exported');

    // a reader that goes away mid-stream (Ctrl-C on `sbx export | ...`) leaves sbxd serving
    for (const args of [['export', 'c2'], ['cp', 'c2:/', '-']]) {
      const child = spawn(SBX_BIN, args, { env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' } });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.kill('SIGKILL');
      await new Promise<void>((resolve) => child.once('close', () => resolve()));
    }
    const again = await sbxRaw(d.root, ['export', 'c2']);
    assert.is(again.code, 0, again.stderr);
    assert.is((await entries(again.stdout)).get('d/f')?.body, 'one\n');
  }));

  s('links a container plants resolve inside its root, never on the host', privileged(async ({ d, host }) => {
    const hostDir = join(host, 'hostside');
    await mkdir(hostDir);
    await ok(d.root, ['run', '-d', '--name', 'c3', 'busybox', 'sh', '-c',
      `echo container-shadow > /etc/shadow && ln -s /etc/shadow /link && ln -s ../../../../etc/passwd /rel && mkdir -p ${hostDir} && ln -s ${hostDir} /escape && ln -s / /up && touch /ready && sleep 1000`]);
    await ok(d.root, ['exec', 'c3', 'sh', '-c', 'while [ ! -e /ready ]; do :; done']);
    // without -L the link itself is copied; with -L its target inside the container
    await ok(d.root, ['cp', 'c3:/link', join(host, 'asis')]);
    assert.is(await readlink(join(host, 'asis')), '/etc/shadow');
    await ok(d.root, ['cp', '-L', 'c3:/link', join(host, 'followed')]);
    assert.is(await readFile(join(host, 'followed'), 'utf8'), 'container-shadow\n');
    await ok(d.root, ['cp', '-L', 'c3:/rel', join(host, 'passwd')]);
    assert.is(await readFile(join(host, 'passwd'), 'utf8'), await ok(d.root, ['exec', 'c3', 'cat', '/etc/passwd']));
    await ok(d.root, ['cp', 'c3:/up/../../etc/shadow', join(host, 'through-dirs')]);
    assert.is(await readFile(join(host, 'through-dirs'), 'utf8'), 'container-shadow\n');
    // writing through a link to a path that also exists on the host lands in the container
    await writeFile(join(host, 'payload'), 'payload\n');
    await ok(d.root, ['cp', join(host, 'payload'), 'c3:/escape/']);
    assert.equal(await readdir(hostDir), [], 'nothing written on the host');
    assert.is(await ok(d.root, ['exec', 'c3', 'cat', `${hostDir}/payload`]), 'payload\n');
    // the tar entry "x" a symlink, then "x/y": never written through the link
    await ok(d.root, ['exec', 'c3', 'ln', '-s', hostDir, '/tmp/up2']);
    const r = await sbxRaw(d.root, ['cp', '-', 'c3:/tmp'], await makeTar([{ name: 'up2/owned', body: 'x' }]));
    assert.is(r.code, 1);
    assert.match(r.stderr, /^Error response from daemon: .*not a directory/);
    assert.equal(await readdir(hostDir), []);
    assert.ok((await lstat(join(host, 'asis'))).isSymbolicLink());
  }));

  s('bad input: missing paths give docker\'s errors and exit 1; usage errors', privileged(async ({ d, host }) => {
    await ok(d.root, ['run', '--name', 'c2', 'busybox', 'true']);
    await writeFile(join(host, 'f'), 'f');
    const to = await sbx(d.root, ['cp', join(host, 'f'), 'c2:/nope/x']);
    assert.is(to.code, 1);
    assert.is(to.stderr, 'Error response from daemon: Could not find the file /nope in container c2\n');
    const from = await sbx(d.root, ['cp', 'c2:/nope', host]);
    assert.is(from.code, 1);
    assert.is(from.stderr, 'Error response from daemon: Could not find the file /nope in container c2\n');
    const local = await sbx(d.root, ['cp', join(host, 'missing'), 'c2:/tmp']);
    assert.is(local.code, 1);
    assert.match(local.stderr, /no such file or directory/);
    const noctr = await sbx(d.root, ['cp', 'nosuch:/x', host]);
    assert.is(noctr.code, 1);
    assert.match(noctr.stderr, /^Error response from daemon: .*nosuch/);
    assert.is((await sbx(d.root, ['cp', join(host, 'f'), join(host, 'g')])).code, 1);
    assert.is((await sbx(d.root, ['cp', 'c2:/a', 'c2:/b'])).code, 1);
    assert.equal(await readdir(host), ['f'], 'nothing half-created on the host');
  }));

  s.run();
}
