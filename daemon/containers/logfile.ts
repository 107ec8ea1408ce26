/**
 * A container's log file ($SBX_ROOT/containers/<id>/log): every output byte of its main process,
 * as records appended in order.
 *
 * Record formats (both may be in one file: a file written before timestamps stays readable)
 * - timed (written now): tag 0x11 (stdout) or 0x12 (stderr), 4-byte big-endian payload length,
 *   8-byte big-endian nanoseconds since the epoch (when sbxd read the bytes), payload.
 * - untimed (older files): tag 1 or 2, length, payload; read with ts 0 (docker's zero time: before
 *   any --since, shown as 0001-01-01T00:00:00.000000000Z by --timestamps).
 * The writer appends synchronously, so the file's size orders it against live subscribers.
 */
import { closeSync, fstatSync, openSync, writeSync, writevSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { OutputStream } from '../../protocol/index.js';
import { nowNano } from '../util/clock.js';

/** One record: channel (1 stdout, 2 stderr), when (ns; 0n: unknown), bytes. */
export interface LogEntry { ch: 1 | 2; ts: bigint; data: Buffer }

const TIMED = 0x10;

export class LogWriter {
  private fd: number;
  private listeners = new Set<(e: LogEntry) => void>();

  constructor(readonly path: string) { this.fd = openSync(path, 'a', 0o600); }

  append(stream: OutputStream, data: Buffer): void {
    const ch = stream === 'stdout' ? 1 : 2;
    const ts = nowNano();
    // the header and the payload in one write, without copying the payload
    const head = Buffer.allocUnsafe(13);
    head[0] = TIMED | ch;
    head.writeUInt32BE(data.length, 1);
    head.writeBigInt64BE(ts, 5);
    const n = writevSync(this.fd, [head, data]);
    if (n < head.length + data.length) writeSync(this.fd, Buffer.concat([head, data]).subarray(n));
    for (const l of this.listeners) l({ ch, ts, data });
  }

  size(): number { return fstatSync(this.fd).size; }

  subscribe(fn: (e: LogEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void { try { closeSync(this.fd); } catch { /* closed */ } }
}

/** The records in [0, size) of the file (none when it does not exist). */
export async function readLogEntries(path: string, size: number): Promise<LogEntry[]> {
  let buf: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, 0);
      buf = buf.subarray(0, bytesRead);
    } finally { await fh.close(); }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return decodeLog(buf);
}

/** Both record formats; a torn last record (a crash mid-write) is dropped. */
export function decodeLog(buf: Buffer): LogEntry[] {
  const out: LogEntry[] = [];
  for (let off = 0; off + 5 <= buf.length;) {
    const tag = buf[off]!;
    const timed = (tag & TIMED) !== 0;
    const head = timed ? 13 : 5;
    const len = buf.readUInt32BE(off + 1);
    if (off + head + len > buf.length) break;
    const ch = (tag & 3) === 2 ? 2 : 1;
    out.push({ ch, ts: timed ? buf.readBigInt64BE(off + 5) : 0n, data: buf.subarray(off + head, off + head + len) });
    off += head + len;
  }
  return out;
}
