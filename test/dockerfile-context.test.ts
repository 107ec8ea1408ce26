/**
 * The build context: .dockerignore with docker's rules, COPY source resolution (globs,
 * directories, escapes refused with the line) and the content checksum that keys the cache
 * (touch keeps it; content, a directory's mode, any of several sources bust it; --chmod hides the
 * source mode).
 */
import { chmod, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SbxError } from '../protocol/index.js';
import { copyChecksum, globRegExp, loadIgnore, parseIgnore, resolveCopy } from '../daemon/dockerfile/context.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { dir: string }
const t = suite<Ctx>('dockerfile: context', {} as Ctx);
const SRC = { file: 'Dockerfile', line: 7, endLine: 7 };

t.before.each(async (ctx) => {
  ctx.dir = await tmpdir('sbx-dfctx-');
  const d = ctx.dir;
  await mkdir(join(d, 'src/lib'), { recursive: true });
  await mkdir(join(d, 'docs/keep'), { recursive: true });
  await writeFile(join(d, 'app.js'), 'console.log(1)\n');
  await writeFile(join(d, 'b.js'), 'b\n');
  await writeFile(join(d, 'src/main.js'), 'main\n');
  await writeFile(join(d, 'src/lib/util.js'), 'util\n');
  await writeFile(join(d, 'src/debug.log'), 'log\n');
  await writeFile(join(d, 'docs/a.md'), 'a\n');
  await writeFile(join(d, 'docs/keep/k.md'), 'k\n');
  await symlink('main.js', join(d, 'src/link'));
  await symlink('/etc/passwd', join(d, 'escape'));
});
t.after.each(async ({ dir }) => { await rmrf(dir); });

async function rejectsAt(p: Promise<unknown>, re: RegExp): Promise<void> {
  try { await p; } catch (e) { assert.instance(e, SbxError); assert.is((e as SbxError).code, 'invalid_argument'); assert.match((e as Error).message, re); return; }
  assert.unreachable(String(re));
}

const rels = (r: { entries: { path: string; rel: string; type: string }[] }): string[] => r.entries.map((e) => `${e.path}>${e.rel}:${e.type}`);

t('a file to a directory destination lands under its name; to a file destination as that file', async ({ dir }) => {
  const r = await resolveCopy(dir, ['app.js'], { src: SRC, destIsDir: true });
  assert.equal(rels(r), ['app.js>app.js:file']);
  assert.is(r.sumKind, 'file');
  const f = await resolveCopy(dir, ['/app.js'], { src: SRC });
  assert.equal([rels(f), f.destIsDir], [['app.js>:file'], false]);
});

t('a directory copies its contents (symlinks kept as links) and its own metadata onto the destination', async ({ dir }) => {
  const r = await resolveCopy(dir, ['src/'], { src: SRC });
  assert.equal(rels(r), ['src>:dir', 'src/debug.log>debug.log:file', 'src/lib>lib:dir', 'src/lib/util.js>lib/util.js:file', 'src/link>link:symlink', 'src/main.js>main.js:file']);
  assert.is(r.entries.find((e) => e.type === 'symlink')!.linkTarget, 'main.js');
  assert.equal([r.destIsDir, r.sumKind], [true, 'dir']);
});

t('globs: * does not cross /, several matches need a directory destination', async ({ dir }) => {
  const r = await resolveCopy(dir, ['*.js'], { src: SRC, destIsDir: true });
  assert.equal(rels(r), ['app.js>app.js:file', 'b.js>b.js:file']);
  assert.is(r.sumKind, 'multi');
  await rejectsAt(resolveCopy(dir, ['*.js'], { src: SRC }), /^Dockerfile:7: When using COPY with more than one source file/);
  await rejectsAt(resolveCopy(dir, ['*.py'], { src: SRC, destIsDir: true }), /^Dockerfile:7: no source files were specified/);
  assert.ok(globRegExp('src/*.js').test('src/main.js'));
  assert.not.ok(globRegExp('*.js').test('src/main.js'));
  assert.ok(globRegExp('[ab]pp.?s').test('app.js'));
});

t('.. and symlinks out of the context are refused naming the line; a missing source too', async ({ dir }) => {
  await rejectsAt(resolveCopy(dir, ['../x'], { src: SRC }), /^Dockerfile:7: forbidden path outside the build context: \.\.\/x/);
  await rejectsAt(resolveCopy(dir, ['src/../../x'], { src: SRC }), /^Dockerfile:7: forbidden path outside the build context/);
  await rejectsAt(resolveCopy(dir, ['escape'], { src: SRC }), /^Dockerfile:7: "\/escape": symlink points outside the build context/);
  await rejectsAt(resolveCopy(dir, ['nope.js'], { src: SRC }), /^Dockerfile:7: "\/nope\.js": not found/);
});

t('.dockerignore: **, ! exceptions, last match wins, ignored sources are not found, <Dockerfile>.dockerignore wins', async ({ dir }) => {
  await writeFile(join(dir, '.dockerignore'), '# comment\n\n**/*.log\ndocs\n!docs/keep\napp.js\n!app.js\nb.js\n');
  const ig = await loadIgnore(dir, 'Dockerfile');
  assert.equal(ig.patterns, ['**/*.log', 'docs', '!docs/keep', 'app.js', '!app.js', 'b.js']);
  const r = await resolveCopy(dir, ['.'], { src: SRC, ignore: ig });
  const paths = r.entries.map((e) => e.path);
  assert.ok(paths.includes('app.js'));
  assert.ok(paths.includes('docs/keep/k.md'));
  for (const gone of ['b.js', 'src/debug.log', 'docs/a.md']) assert.not.ok(paths.includes(gone), gone);
  await rejectsAt(resolveCopy(dir, ['b.js'], { src: SRC, ignore: ig }), /^Dockerfile:7: "\/b\.js": not found \(excluded by \.dockerignore\)/);
  await writeFile(join(dir, 'Dockerfile.dockerignore'), 'app.js\n');
  const own = await loadIgnore(dir, 'Dockerfile');
  assert.equal([own.patterns, own.ignores('app.js'), own.ignores('b.js')], [['app.js'], true, false]);
  assert.not.ok(parseIgnore('').ignores('x'));
});

t('checksum: touch keeps it; content, a directory\'s mode, any one of several sources bust it', async ({ dir }) => {
  const sum = async (sources: string[], opts = {}): Promise<string> => copyChecksum(dir, await resolveCopy(dir, sources, { src: SRC, destIsDir: true }), opts);
  const one = await sum(['app.js']);
  assert.match(one, /^sha256:[0-9a-f]{64}$/);
  await utimes(join(dir, 'app.js'), new Date(0), new Date(0));
  assert.is(await sum(['app.js']), one, 'touch keeps the cache');
  await writeFile(join(dir, 'app.js'), 'console.log(2)\n');
  assert.is.not(await sum(['app.js']), one, 'an edit busts it');

  const several = await sum(['app.js', 'b.js']);
  await writeFile(join(dir, 'b.js'), 'B\n');
  assert.is.not(await sum(['app.js', 'b.js']), several, 'the second of two sources busts it (moby/buildkit#853)');

  const tree = await sum(['src']);
  await chmod(join(dir, 'src'), 0o700);
  assert.is.not(await sum(['src']), tree, 'the directory\'s own mode busts it (moby/buildkit#7176)');
});

t('checksum: with --chmod the source mode does not count; --chown and the destination path do', async ({ dir }) => {
  const sum = async (opts: { chmod?: string; chown?: string }, dest = true): Promise<string> =>
    copyChecksum(dir, await resolveCopy(dir, ['app.js'], { src: SRC, destIsDir: dest }), opts);
  const withChmod = await sum({ chmod: '0755' });
  const plain = await sum({});
  await chmod(join(dir, 'app.js'), 0o600);
  assert.is(await sum({ chmod: '0755' }), withChmod, 'source mode hidden by --chmod (moby/buildkit#4374)');
  assert.is.not(await sum({}), plain, 'without --chmod the mode counts');
  assert.is.not(await sum({ chmod: '0700' }), withChmod);
  assert.is.not(await sum({ chown: '1:1' }), await sum({}));
  assert.is.not(await sum({}, false), await sum({}), 'copied as the destination file vs into the directory');
});

t.run();
