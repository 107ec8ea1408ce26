/**
 * `sbx logs` with time: -t/--timestamps (docker's RFC3339 with nine fraction digits, one per
 * line), --since/--until (RFC3339, unix time, a relative duration), --tail with -t, --details,
 * -f with --since, and a log file written before records had timestamps (still readable, its
 * lines at docker's zero time).
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

const s = suite<{ d: TestDaemon }>('logs: timestamps, since, until', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => { await ctx.d?.close(); });

const ok = async (d: TestDaemon, args: string[]): Promise<string> => {
  const r = await sbx(d.root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/;
/** "2026-...123456789Z" → "SECONDS.NANOS" (exact). */
const unix = (stamp: string): string => `${Math.floor(Date.parse(stamp) / 1000)}.${stamp.slice(20, 29)}`;

/** Prints "one", waits for /go (made by exec), prints "two" and "err" (stderr), waits for /end. */
const SCRIPT = 'echo one; while [ ! -e /go ]; do usleep 20000; done; echo two; echo err >&2; while [ ! -e /end ]; do usleep 20000; done';

s('-t stamps each line; --since/--until cut by time in every form docker takes; -f --since follows from there', privileged<{ d: TestDaemon }>(async ({ d }) => {
  const before = Date.now();
  await ok(d, ['run', '-d', '--name', 'clock', 'busybox', 'sh', '-c', SCRIPT]);
  const first = await eventually('"one" in the log', async () => { const o = await ok(d, ['logs', '-t', 'clock']); return o.includes(' one\n') ? o : undefined; }, 30_000);
  const m1 = STAMP.exec(first.trimEnd())!;
  assert.ok(m1, `a stamped line: ${JSON.stringify(first)}`);
  assert.is(m1[2], 'one');
  const t1 = m1[1]!;
  assert.ok(Date.parse(t1) >= before - 1000 && Date.parse(t1) <= Date.now() + 1000, `${t1} is the time of the run`);

  // a follower from just after "one": sees nothing of before, then "two" as it comes
  const nextNs = BigInt(unix(t1).replace('.', '')) + 1n;
  const follower = spawn(SBX_BIN, ['logs', '-f', '--since', `${nextNs / 1_000_000_000n}.${String(nextNs % 1_000_000_000n).padStart(9, '0')}`, 'clock'],
    { env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' } });
  let followed = '';
  follower.stdout.on('data', (b: Buffer) => { followed += b; });
  const followerDone = new Promise<number | null>((r) => follower.on('close', r));

  await ok(d, ['exec', 'clock', 'touch', '/go']);
  const all = await eventually('"two" in the log', async () => { const o = await sbx(d.root, ['logs', '-t', 'clock']); return o.stdout.includes(' two\n') && o.stderr.includes(' err\n') ? o : undefined; }, 30_000);
  const m2 = STAMP.exec(all.stdout.trimEnd().split('\n')[1]!)!;
  assert.is(m2[2], 'two');
  const t2 = m2[1]!;
  assert.ok(t2 > t1, `${t2} after ${t1}`);
  assert.match(all.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err\n$/);

  assert.is(await ok(d, ['logs', '--since', t2, 'clock']), 'two\n', 'RFC3339 since keeps from that instant on');
  assert.is(await ok(d, ['logs', '--until', t1, 'clock']), 'one\n', 'RFC3339 until keeps up to that instant');
  assert.is(await ok(d, ['logs', '--since', unix(t2), 'clock']), 'two\n', 'unix SECONDS.NANOS');
  assert.is(await ok(d, ['logs', '--since', unix(t1), '--until', unix(t1), 'clock']), 'one\n', 'a window of one instant');
  assert.is(await ok(d, ['logs', '--since', '10m', 'clock']), 'one\ntwo\n', 'relative: the last ten minutes');
  assert.is(await ok(d, ['logs', '--until', '10m', 'clock']), '', 'relative: until ten minutes ago is before the run');
  const tail = await sbx(d.root, ['logs', '-t', '--tail', '2', 'clock']);
  assert.is(tail.stdout, `${t2} two\n`, 'tail counts the lines of both streams, each with its time');
  assert.match(tail.stderr, /^\S+Z err\n$/);
  assert.is(await ok(d, ['logs', '--details', 'clock']), ' one\n two\n', 'details: no attributes, a space');

  const bad = await sbx(d.root, ['logs', '--since', 'yesterday', 'clock']);
  assert.is(bad.code, 125, bad.stderr);
  assert.match(bad.stderr, /invalid argument "yesterday" for "--since" flag: failed to parse value as time or duration/);

  await eventually('the follower saw "two"', () => followed.includes('two\n'), 30_000);
  await ok(d, ['exec', 'clock', 'touch', '/end']);
  assert.is(await followerDone, 0);
  assert.is(followed, 'two\n', 'nothing from before --since, the new line once');
  await ok(d, ['rm', '-f', 'clock']);
}));

s('a log written before timestamps is still read; its lines show docker\'s zero time and fall before any --since', privileged<{ d: TestDaemon }>(async ({ d }) => {
  const id = (await ok(d, ['create', '--name', 'old', 'busybox', 'echo', 'new line'])).trim();
  // what sbx wrote before: channel byte, 4-byte length, payload (no time)
  const rec = (ch: number, text: string): Buffer => { const b = Buffer.from(text); const h = Buffer.alloc(5); h[0] = ch; h.writeUInt32BE(b.length, 1); return Buffer.concat([h, b]); };
  appendFileSync(join(d.root, 'containers', id, 'log'), Buffer.concat([rec(1, 'old out\n'), rec(2, 'old err\n')]));
  const plain = await sbx(d.root, ['logs', 'old']);
  assert.is(plain.stdout, 'old out\n');
  assert.is(plain.stderr, 'old err\n');
  await ok(d, ['start', '-a', 'old']);
  const stamped = await ok(d, ['logs', '-t', 'old']);
  const lines = stamped.trimEnd().split('\n');
  assert.is(lines[0], '0001-01-01T00:00:00.000000000Z old out');
  assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z new line$/);
  assert.ok(!lines[1]!.startsWith('0001'));
  assert.is(await ok(d, ['logs', '--since', '10m', 'old']), 'new line\n');
  assert.is(await ok(d, ['logs', '--tail', '1', 'old']), 'new line\n');
  await ok(d, ['rm', 'old']);
}));

s.run();
