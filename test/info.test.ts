/** `sbx info` (issue 12 "Cleanup"): docker's layout with this host's facts, --format, `system info`. */
import { readFileSync } from 'node:fs';
import { availableParallelism, machine, release, totalmem } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bytesSize } from '../cli/commands/info.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

const s = suite<{ d: TestDaemon }>('info', {} as { d: TestDaemon });
s.before.each(async (ctx) => { ctx.d = await startTestDaemon(); });
s.after.each(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'up']).catch(() => undefined);
  await ctx.d.close();
});

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

s('docker units.BytesSize', () => {
  assert.is(bytesSize(0), '0B');
  assert.is(bytesSize(4103667712), '3.822GiB');
  assert.is(bytesSize(1536), '1.5KiB');
});

s('counts containers by state and images; the host facts; --format; system info', privileged(async ({ d }) => {
  await ok(d.root, ['import', '--busybox', 'busybox']);
  await ok(d.root, ['tag', 'busybox', 'again:1']); // one image, two tags
  await ok(d.root, ['run', '-d', '--name', 'up', 'busybox', 'sleep', '60']);
  await ok(d.root, ['run', '-d', '--name', 'held', 'busybox', 'sleep', '60']);
  await ok(d.root, ['pause', 'held']);
  await ok(d.root, ['create', '--name', 'made', 'busybox', 'true']);
  const text = await ok(d.root, ['info']);
  const os = /^PRETTY_NAME="?(.*?)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))![1];
  const cgroup = /cgroup2/.test(readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === '/sys/fs/cgroup') ?? '') ? '2' : '1';
  for (const line of [
    '\nServer:\n Containers: 3\n  Running: 1\n  Paused: 1\n  Stopped: 1\n Images: 1\n Server Version: 0.1.0\n Storage Driver: ',
    `\n Cgroup Driver: cgroupfs\n Cgroup Version: ${cgroup}\n Kernel Version: ${release()}\n Operating System: ${os}\n OSType: linux\n`,
    ` Architecture: ${machine()}\n CPUs: ${availableParallelism()}\n Total Memory: ${bytesSize(totalmem())}\n`,
    ` Sbx Root Dir: ${d.root}\n`,
  ]) assert.ok(text.includes(line), `${JSON.stringify(line)} in:\n${text}`);
  assert.match(text, /^Client:\n Version: +\S+\n\nServer:\n/);
  assert.match(text, / Storage Driver: (overlay|native)\n/);

  assert.is(await ok(d.root, ['info', '--format', '{{.ContainersRunning}}/{{.ContainersPaused}}/{{.ContainersStopped}} {{.Images}}']), '1/1/1 1\n');
  const json = JSON.parse(await ok(d.root, ['info', '--format', '{{json .}}'])) as Record<string, unknown>;
  assert.is(json.Containers, 3);
  assert.is(json.SbxRootDir, d.root);
  assert.is(await ok(d.root, ['system', 'info', '--format', '{{.NCPU}}']), `${availableParallelism()}\n`);
  await ok(d.root, ['unpause', 'held']);
  await ok(d.root, ['rm', '-f', 'held']);
  const bad = await sbx(d.root, ['info', '--format', '{{range .}}x']);
  assert.is(bad.code, 125);
  assert.is(bad.stdout, '');
  assert.match(bad.stderr, 'template parsing error: template: :1: unexpected EOF');
}));

s.run();
