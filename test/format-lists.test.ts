/**
 * `--format` on every list as docker's CLI has it: `table TEMPLATE` (a header row from docker's
 * titles), a template per row, `json` with docker's fields; a field docker's row lacks is an error
 * (exit 125), never "<no value>"; ps's Labels, Label "KEY", Mounts, LocalVolumes, Networks.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { docker } from './_helpers/docker-cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const s = suite<{ d: TestDaemon }>('--format on lists', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await sbx(ctx.d.root, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await sbx(ctx.d.root, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const ok = async (d: TestDaemon, args: string[]): Promise<string> => {
  const r = await sbx(d.root, args);
  assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

s('table TEMPLATE and docker\'s fields on images, history, volume ls, network ls, system df, stats; unknown fields refused', privileged(async ({ d }) => {
  await ok(d, ['volume', 'create', '--label', 'k=v', 'data']);
  await ok(d, ['run', '-d', '--name', 'st', 'busybox', 'sleep', '1000']);
  const lists: [string[], RegExp][] = [
    [['images', '--format', 'table {{.Repository}}\\t{{.Size}}'], /^REPOSITORY   SIZE\nbusybox      [\d.]+MB\n$/],
    [['history', '--format', 'table {{.CreatedBy}}', 'busybox'], /^CREATED BY\nsbx test fixture\n$/],
    [['volume', 'ls', '--format', 'table {{.Name}}\\t{{.Labels}}'], /^VOLUME NAME   LABELS\ndata          k=v\n$/],
    [['volume', 'ls', '--format', '{{.Name}} {{.Label "k"}}'], /^data v\n$/],
    [['network', 'ls', '--format', 'table {{.Name}}\\t{{.Internal}}'], /^NAME      INTERNAL\nbridge    false\nhost      false\nnone      false\n$/],
    [['system', 'df', '--format', '{{.Type}}={{.TotalCount}}'], /^Images=1\nContainers=1\nLocal Volumes=1\nBuild Cache=0\n$/],
    [['stats', '--no-stream', '--format', 'table {{.Name}}\\t{{.PIDs}}', 'st'], /^NAME      PIDS\nst        1\n$/],
  ];
  for (const [args, want] of lists) assert.match(await ok(d, args), want, args.join(' '));
  const vol = JSON.parse(await ok(d, ['volume', 'ls', '--format', 'json']));
  assert.equal(Object.keys(vol), ['Driver', 'Labels', 'Links', 'Mountpoint', 'Name', 'Scope', 'Size']);
  assert.equal([vol.Name, vol.Labels, vol.Driver], ['data', 'k=v', 'local']);
  assert.equal(Object.keys(JSON.parse((await ok(d, ['system', 'df', '--format', 'json'])).split('\n')[0]!)), ['Active', 'Reclaimable', 'Size', 'TotalCount', 'Type']);

  for (const args of [['images'], ['history', 'busybox'], ['volume', 'ls'], ['network', 'ls'], ['system', 'df'], ['ps'], ['info'], ['version'], ['inspect', 'st'], ['inspect', 'busybox']]) {
    const r = await sbx(d.root, [...args, '--format', '{{.NoSuchField}}']);
    assert.is(r.code, 125, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /can't evaluate field NoSuchField in type \S+/, args.join(' '));
    assert.is(r.stdout, '', 'nothing printed');
  }
  assert.is((await sbx(d.root, ['ps', '--format', '{{.Label}}'])).code, 125);
  // ls -f is --filter for volumes and networks, as docker's (not --force, not --format)
  await ok(d, ['volume', 'create', 'other']);
  await ok(d, ['run', '-d', '--name', 'holder', '-v', 'other:/o', 'busybox', 'sleep', '1000']);
  assert.is(await ok(d, ['volume', 'ls', '-q', '-f', 'dangling=true']), 'data\n');
  assert.is(await ok(d, ['volume', 'ls', '-q', '--filter', 'dangling=false']), 'other\n');
  assert.is(await ok(d, ['volume', 'ls', '-q', '-f', 'label=k=v']), 'data\n');
  assert.is(await ok(d, ['volume', 'ls', '-q', '-f', 'name=oth']), 'other\n');
  assert.is(await ok(d, ['network', 'ls', '-f', 'driver=null', '--format', '{{.Name}}']), 'none\n');
  assert.is(await ok(d, ['network', 'ls', '-q', '-f', 'type=custom']), '');
  for (const args of [['volume', 'ls', '-f', 'bogus=1'], ['network', 'ls', '-f', 'bogus=1']]) {
    const r = await sbx(d.root, args);
    assert.is(r.code, 1, args.join(' '));
    assert.match(r.stderr, /Error response from daemon: invalid filter 'bogus'/);
  }
  await ok(d, ['rm', '-f', 'holder']);
  await ok(d, ['volume', 'rm', 'other']);
  // system df -v: docker's four tables under their titles
  const v = await ok(d, ['system', 'df', '-v']);
  assert.match(v, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nbusybox +latest +[0-9a-f]{12} .* ([\d.]+MB) +0B +\1 +1\n/);
  assert.match(v, /\nContainers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n[0-9a-f]{12} +busybox +"sleep 1000" +0 +0B +.* ago +Up .* +st\n/);
  assert.match(v, /\nLocal Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\ndata +0 +0B\n/);
  assert.match(v, /\nBuild cache usage: 0B\n\nCACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED\n$/);
  await ok(d, ['rm', '-f', 'st']);
  await ok(d, ['volume', 'rm', 'data']);
}));

s('ps: docker\'s fields, Label "KEY", Mounts, LocalVolumes, Networks; -n and -l', privileged(async ({ d }) => {
  const host = await tmpdir('sbx-fmt-');
  try {
    await ok(d, ['run', '-d', '--name', 'lab', '-l', 'app=web', '-l', 'tier=front', '-v', 'vol1:/v', '-v', `${host}:/h`, '--tmpfs', '/t', 'busybox', 'sleep', '1000']);
    await ok(d, ['run', '--name', 'later', 'busybox', 'true']);
    // {{.Size}} asks for the sizes, as docker's (ps-size.test.ts): nothing written, the image's bytes as virtual
    assert.match(await ok(d, ['ps', '-f', 'name=lab', '--format', '{{.Label "app"}}|{{.Labels}}|{{.Networks}}|{{.LocalVolumes}}|{{.Size}}']), /^web\|app=web,tier=front\|bridge\|1\|0B \(virtual [\d.]+[kM]B\)\n$/);
    assert.is(await ok(d, ['ps', '-f', 'name=lab', '--no-trunc', '--format', '{{.Mounts}}']), `vol1,${host}\n`, '--tmpfs is not a mount in docker\'s list');
    const json = JSON.parse(await ok(d, ['ps', '-f', 'name=lab', '--format', 'json']));
    assert.equal(Object.keys(json), ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
    assert.match(json.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
    assert.is(await ok(d, ['ps', '-l', '--format', '{{.Names}}']), 'later\n', '-l: the latest created, whatever its state');
    // docker's own CLI on sbxd's socket sees the same
    const viaDocker = await docker(d.daemon.services.config.socket, ['ps', '-f', 'name=lab', '--no-trunc', '--format', '{{.Label "app"}}|{{.Networks}}|{{.Mounts}}|{{.LocalVolumes}}']);
    assert.is(viaDocker.code, 0, viaDocker.stderr);
    assert.is(viaDocker.stdout, `web|bridge|vol1,${host}|1\n`);
    assert.is(await ok(d, ['ps', '-n', '2', '--format', '{{.Names}}']), 'later\nlab\n');
    await ok(d, ['rm', '-f', 'lab', 'later']);
    await ok(d, ['volume', 'rm', 'vol1']);
  } finally { await rmrf(host); }
}));

s('version --format json is docker\'s {{json .}}', privileged(async ({ d }) => {
  const v = JSON.parse(await ok(d, ['version', '--format', 'json']));
  assert.is(v.Server.Root, d.root);
  assert.is(JSON.stringify(v), (await ok(d, ['version', '--format', '{{json .}}'])).trim());
}));

s.run();
