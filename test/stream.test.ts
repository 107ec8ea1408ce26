/** sbx.stream.v1 codec: frames, control validation, signals. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeData, encodeControl, encodeData, normalizeSignal, parseClientControl, parseServerControl,
} from '../protocol/index.js';

test('data frames round-trip with their channel', () => {
  for (const ch of [0, 1, 2] as const) {
    const f = encodeData(ch, new Uint8Array([0, 255, 10]));
    assert.equal([...f], [ch, 0, 255, 10]);
    const d = decodeData(f);
    assert.is(d.channel, ch);
    assert.equal([...d.data], [0, 255, 10]);
  }
});

test('unknown channels and empty frames are protocol errors', () => {
  assert.throws(() => decodeData(new Uint8Array([3, 1])), /unknown channel/);
  assert.throws(() => decodeData(new Uint8Array([])), /empty/);
});

const GOOD: [string, unknown][] = [
  ['{"t":"hello","v":1,"from":{"stdout":10},"size":{"cols":80,"rows":24},"window":1024}', { t: 'hello', v: 1, from: { stdout: 10 }, size: { cols: 80, rows: 24 }, window: 1024 }],
  ['{"t":"resize","cols":132,"rows":50}', { t: 'resize', cols: 132, rows: 50 }],
  ['{"t":"signal","name":"SIGINT"}', { t: 'signal', name: 'SIGINT' }],
  ['{"t":"eof","stream":"stdin"}', { t: 'eof', stream: 'stdin' }],
  ['{"t":"ack","stdout":5,"stderr":0}', { t: 'ack', stdout: 5, stderr: 0 }],
  ['{"t":"future-thing","x":1}', undefined],
];
for (const [text, want] of GOOD) test(`client control ${text}`, () => assert.equal(parseClientControl(text), want));

const BAD = ['not json', '{"x":1}', '{"t":"hello","v":2}', '{"t":"resize","cols":0,"rows":5}', '{"t":"resize","cols":2000,"rows":5}',
  '{"t":"ack","stdout":-1,"stderr":0}', '{"t":"signal","name":"rm -rf"}', '{"t":"hello","v":1,"from":{"stdout":1.5}}'];
for (const text of BAD) test(`client control rejected: ${text}`, () => assert.throws(() => parseClientControl(text)));

test('server controls: known types parse, unknown are ignored', () => {
  assert.equal(parseServerControl(encodeControl({ t: 'stdinAck', n: 4 })), { t: 'stdinAck', n: 4 });
  assert.is(parseServerControl('{"t":"later"}'), undefined);
});

test('signals normalise like docker kill -s', () => {
  assert.is(normalizeSignal('KILL'), 'SIGKILL');
  assert.is(normalizeSignal('sigterm'), 'SIGTERM');
  assert.is(normalizeSignal('9'), 'SIGKILL');
  assert.is(normalizeSignal('NOPE'), undefined);
});

test.run();
