/**
 * `ps -s/--size` as docker's: a SIZE column "12B (virtual 4.26MB)" (the container's writable
 * layer, and that plus its image); `--format '{{.Size}}'` asks for the sizes itself (not with
 * --size=false); the Docker API's /containers/json?size=1 answers SizeRw and SizeRootFs, which
 * Debian's docker CLI shows the same way, and leaves them out without size.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { humanSize } from '../cli/output.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker, raw } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; image: number }
const s = suite<Ctx>('ps --size', {} as Ctx);
s.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  await ok(ctx.d, ['run', '-d', '--name', 'sized', 'busybox', 'sleep', '1000']);
  // 12 bytes in the container's layer, written before anyone asks
  await ok(ctx.d, ['exec', 'sized', 'sh', '-c', 'printf 123456789012 > /twelve']);
  ctx.image = JSON.parse(await ok(ctx.d, ['image', 'inspect', 'busybox']))[0].Size as number;
});
s.after(async (ctx) => {
  if (!ctx.d) return;
  await sbx(ctx.d.root, ['rm', '-f', 'sized']);
  await ctx.d.close();
});

async function ok(d: TestDaemon, args: string[]): Promise<string> {
  const r = await sbx(d.root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The SIZE text docker shows for the subject: its 12 bytes, and those plus the image's. */
const shown = (image: number): string => `12B (virtual ${humanSize(image + 12)})`;
/** A table row ending with the subject's name and its SIZE cell. */
const lastCells = (image: number): RegExp => new RegExp(`sized +${shown(image).replace(/[().]/g, '\\$&')}$`);

s('sbx ps -s adds a SIZE column; sbx ps has none', privileged<Ctx>(async ({ d, image }) => {
  const [head, row, ...rest] = (await ok(d, ['ps', '-s'])).split('\n');
  assert.match(head!, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +SIZE$/);
  assert.match(row!, lastCells(image));
  assert.equal(rest, ['']);
  assert.not.match(await ok(d, ['ps']), /SIZE|virtual/);
}));

s('--format {{.Size}} asks for the sizes; --size=false does not; json has them', privileged<Ctx>(async ({ d, image }) => {
  assert.is(await ok(d, ['ps', '--format', '{{.Names}} {{.Size}}']), `sized ${shown(image)}\n`);
  assert.is(await ok(d, ['ps', '--format', 'table {{.Size}}']), `SIZE\n${shown(image)}\n`);
  assert.is(await ok(d, ['ps', '--size=false', '--format', '{{.Size}}']), '0B\n');
  assert.is(JSON.parse(await ok(d, ['ps', '--format', 'json'])).Size, shown(image));
}));

s('Docker API: SizeRw and SizeRootFs with size=1, none without; docker ps -s shows them', privileged<Ctx>(async ({ d, image }) => {
  const sock = d.daemon.services.config.socket;
  const sized = JSON.parse((await raw(sock, 'GET', '/v1.41/containers/json?size=1')).text) as Record<string, unknown>[];
  assert.is(sized[0]!.SizeRw, 12);
  assert.is(sized[0]!.SizeRootFs, image + 12);
  const plain = JSON.parse((await raw(sock, 'GET', '/v1.41/containers/json')).text) as Record<string, unknown>[];
  assert.equal([plain[0]!.SizeRw, plain[0]!.SizeRootFs], [undefined, undefined], 'omitempty, as docker\'s');
  const table = await docker(sock, ['ps', '-s']);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout.split('\n')[0]!, / SIZE$/);
  assert.match(table.stdout.split('\n')[1]!, lastCells(image));
  const format = await docker(sock, ['ps', '--format', '{{.Size}}']);
  assert.is(format.code, 0, format.stderr);
  assert.is(format.stdout, `${shown(image)}\n`);
}));

s.run();
