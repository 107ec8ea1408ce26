/**
 * sbx log records (protocol/stream.ts encodeLogRecord: channel byte, 4-byte big-endian length,
 * payload) → docker's stream format: without a TTY the multiplexed frames (stream byte, three
 * zero bytes, 4-byte big-endian length, payload); with one (`raw`) the bare bytes.
 */
import { Transform } from 'node:stream';
import { frame8 } from './bridge.js';

export function dockerFrames(opts: { stdout: boolean; stderr: boolean; raw: boolean }): Transform {
  let pending: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 5) {
        const len = pending.readUInt32BE(1);
        if (pending.length < 5 + len) break;
        const ch = pending[0]!;
        const payload = pending.subarray(5, 5 + len);
        pending = pending.subarray(5 + len);
        if ((ch === 1 && !opts.stdout) || (ch === 2 && !opts.stderr) || len === 0) continue;
        if (opts.raw) { this.push(Buffer.from(payload)); continue; }
        this.push(frame8(ch, payload));
      }
      done();
    },
  });
}
