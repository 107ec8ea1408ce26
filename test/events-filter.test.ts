/**
 * The pure parts of events and logs: docker's --since/--until forms (GetTimestamp), the nanosecond
 * time format, docker's event filter rules, the event bus's ring and subscribers, and the log
 * file's two record formats.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatEventLine, formatNanoTime, parseGoDuration, parseTimeArg, parseUnixTime, SbxError, type EventMessage } from '../protocol/index.js';
import { decodeLog } from '../daemon/containers/logfile.js';
import { EventBus } from '../daemon/events/bus.js';
import { eventFilter } from '../daemon/events/filter.js';

const t = suite('events and logs: time, filters, bus, log records');

t('--since/--until values as docker\'s CLI reads them', () => {
  const now = new Date('2026-12-06T02:00:00.000Z');
  assert.is(parseTimeArg('10m', now), String(Date.parse('2026-12-06T01:50:00Z') / 1000));
  assert.is(parseTimeArg('1h30m', now), String(Date.parse('2026-12-06T00:30:00Z') / 1000));
  assert.is(parseTimeArg('1.5h', now), String(Date.parse('2026-12-06T00:30:00Z') / 1000));
  assert.is(parseTimeArg('1700000000', now), '1700000000');
  assert.is(parseTimeArg('1700000000.5', now), '1700000000.5');
  assert.is(parseTimeArg('2026-12-06T02:00:00.123456789Z', now), `${Date.parse('2026-12-06T02:00:00Z') / 1000}.123456789`);
  assert.is(parseTimeArg('2026-12-06T03:00:00+01:00', now), `${Date.parse('2026-12-06T02:00:00Z') / 1000}.000000000`);
  assert.is(parseTimeArg('2026-12-06Z', now), `${Date.parse('2026-12-06T00:00:00Z') / 1000}.000000000`);
  assert.throws(() => parseTimeArg('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
  assert.throws(() => parseTimeArg('2026-13-45', now), /parsing time "2026-13-45"/);
  assert.is(parseGoDuration('300ms'), 300e6);
  assert.is(parseGoDuration('-2s'), -2e9);
  assert.is(parseGoDuration('10'), undefined, 'a bare number is no duration');
  assert.is(parseUnixTime('1.000000001'), 1_000_000_001n);
  assert.is(parseUnixTime('1.5'), 1_500_000_000n);
  assert.is(parseUnixTime('x'), undefined);
  assert.is(formatNanoTime(1_764_986_400_123_456_789n), '2025-12-06T02:00:00.123456789Z');
  assert.is(formatNanoTime(-62135596800n * 1_000_000_000n), '0001-01-01T00:00:00.000000000Z');
});

const ev = (Type: EventMessage['Type'], Action: string, ID: string, Attributes: Record<string, string>): EventMessage =>
  ({ Type, Action, Actor: { ID, Attributes }, scope: 'local', time: 1, timeNano: 1e9 });
const web = ev('container', 'start', 'abc123', { image: 'busybox:latest', name: 'web', team: 'blue' });
const tag = ev('image', 'tag', 'sha256:aa', { name: 'me/site:v1' });
const net = ev('network', 'connect', 'n1', { container: 'abc123', name: 'front', type: 'bridge' });
const exec = ev('container', 'exec_start: sh -c ls', 'abc123', { image: 'busybox:latest', name: 'web', execID: 'abc123.1' });

t('filters: docker\'s matching rules', () => {
  const keep = (...f: string[]): string[] => [web, tag, net, exec].filter(eventFilter(f)).map((e) => `${e.Type}/${e.Action}`);
  assert.equal(keep(), ['container/start', 'image/tag', 'network/connect', 'container/exec_start: sh -c ls']);
  assert.equal(keep('container=web'), ['container/start', 'container/exec_start: sh -c ls'], 'by name; other types drop out');
  assert.equal(keep('container=abc'), ['container/start', 'container/exec_start: sh -c ls'], 'by id prefix');
  assert.equal(keep('image=busybox'), ['container/start', 'container/exec_start: sh -c ls'], 'a container\'s image without its tag');
  assert.equal(keep('image=me/site'), ['image/tag']);
  assert.equal(keep('image=sha256:aa'), ['image/tag']);
  assert.equal(keep('event=start'), ['container/start'], 'exact action');
  assert.equal(keep('event=exec_start'), ['container/exec_start: sh -c ls'], 'exec_start matches before the colon');
  assert.equal(keep('type=network', 'network=front'), ['network/connect']);
  assert.equal(keep('label=team'), ['container/start']);
  assert.equal(keep('label=team=blue', 'event=start', 'event=die'), ['container/start']);
  assert.equal(keep('label=team=red'), []);
  assert.equal(keep('volume=v'), []);
  assert.throws(() => eventFilter(['colour=red']), (e: unknown) => e instanceof SbxError && e.code === 'invalid_argument' && /invalid filter 'colour'/.test(e.message));
  assert.throws(() => eventFilter(['web']), /bad format of filter/);
});

t('the bus: stamps, legacy fields, ring bound, subscribers, the default line', () => {
  const bus = new EventBus(3);
  const seen: string[] = [];
  const off = bus.subscribe((e) => seen.push(e.message.Action));
  bus.subscribe(() => { throw new Error('a bad subscriber is dropped'); });
  for (const a of ['create', 'start', 'die', 'destroy']) bus.emit('container', a, 'abc', { name: 'web', image: 'busybox' });
  off();
  bus.emit('volume', 'create', 'v1', { driver: 'local' });
  assert.equal(seen, ['create', 'start', 'die', 'destroy']);
  const all = bus.recent(0n);
  assert.equal(all.map((e) => e.message.Action), ['die', 'destroy', 'create'], 'only the last 3 kept');
  assert.ok(all[0]!.ns < all[1]!.ns && all[1]!.ns < all[2]!.ns, 'strictly increasing');
  assert.is(BigInt(all[0]!.message.timeNano), all[0]!.ns, 'timeNano is what since compares');
  assert.equal(bus.recent(all[1]!.ns).map((e) => e.message.Action), ['destroy', 'create']);
  const m = all[0]!.message;
  assert.is(m.status, 'die');
  assert.is(m.id, 'abc');
  assert.is(m.from, 'busybox');
  assert.is(all[2]!.message.status, undefined, 'no legacy fields for volumes');
  assert.match(formatEventLine(m), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container die abc \(image=busybox, name=web\)$/);
});

t('log records: the timed and the old untimed format in one file; a torn last record is dropped', () => {
  const old = Buffer.from([1, 0, 0, 0, 3, 0x61, 0x62, 0x0a]);
  const timed = Buffer.alloc(13 + 2);
  timed[0] = 0x12;
  timed.writeUInt32BE(2, 1);
  timed.writeBigInt64BE(1_700_000_000_000_000_001n, 5);
  timed.write('e\n', 13);
  const entries = decodeLog(Buffer.concat([old, timed, timed.subarray(0, 9)]));
  assert.equal(entries.map((e) => [e.ch, e.ts, e.data.toString()]), [[1, 0n, 'ab\n'], [2, 1_700_000_000_000_000_001n, 'e\n']]);
});

t.run();
