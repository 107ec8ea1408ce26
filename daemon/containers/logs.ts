/**
 * `sbx logs` / docker's GET /containers/{id}/logs: the container's log file (logfile.ts) as wire
 * records (protocol encodeLogRecord), then, with follow, its live output until it stops.
 *
 * Options, as docker's: since/until (ns, inclusive) keep the records read in that window (records
 * from before timestamps existed have ts 0: before any since); tail keeps the last N lines of
 * what since/until kept; timestamps puts each line's time (RFC3339, nine digits) and a space in
 * front of it, details a space (sbx has no log attributes). A line split over several records is
 * prefixed once, with the time of its first bytes. Follow with until ends at until.
 */
import { existsSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { encodeLogRecord, formatNanoTime } from '../../protocol/index.js';
import { nowNano } from '../util/clock.js';
import type { ContainerManager } from './manager.js';
import { readLogEntries, type LogEntry } from './logfile.js';
import { logPath } from './records.js';

export interface LogOptions { follow?: boolean; tail?: number; since?: bigint | undefined; until?: bigint | undefined; timestamps?: boolean; details?: boolean }

/** The last `tail` records (-1: all); follow streams until the container stops. */
export function containerLogs(m: ContainerManager, ref: string, opts: LogOptions): Readable {
  const c = m.get(ref);
  const path = logPath(c.dir);
  const out = new Readable({ read() { /* pushed */ } });
  const tail = opts.tail ?? -1;
  const size = c.log ? c.log.size() : (existsSync(path) ? statSync(path).size : 0);
  const live: LogEntry[] = [];
  let replayed = false;
  const inWindow = (e: LogEntry): boolean => (opts.since === undefined || e.ts >= opts.since) && (opts.until === undefined || e.ts <= opts.until);
  const render = renderer(opts);
  const send = (e: LogEntry): void => { if (inWindow(e)) for (const r of render(e)) out.push(r); };
  const follow = opts.follow && c.state.status === 'running' && c.log && (opts.until === undefined || opts.until > nowNano());
  // records written while the file is read are held, then pushed after it: none lost, none twice
  const unsubscribe = follow ? c.log!.subscribe((e) => { if (replayed) send(e); else live.push(e); }) : undefined;
  let timer: NodeJS.Timeout | undefined;
  const end = (): void => { if (timer) clearTimeout(timer); unsubscribe?.(); out.push(null); };
  void readLogEntries(path, size).then((entries) => {
    const kept = entries.filter(inWindow);
    for (const e of tail < 0 ? kept : lastLines(kept, tail)) for (const r of render(e)) out.push(r);
    for (const e of live.splice(0)) send(e);
    replayed = true;
    if (!follow) { out.push(null); return; }
    if (opts.until !== undefined) timer = setTimeout(end, Number((opts.until - nowNano()) / 1_000_000n) + 1);
    void c.session!.waitExit().then(() => setImmediate(end));
  }, (e) => out.destroy(e));
  out.on('close', () => { if (timer) clearTimeout(timer); unsubscribe?.(); });
  return out;
}

/** Entries → wire records; with timestamps/details a prefix at each line start, per channel. */
function renderer(opts: LogOptions): (e: LogEntry) => Uint8Array[] {
  if (!opts.timestamps && !opts.details) return (e) => [encodeLogRecord(e.ch, e.data)];
  const atStart = { 1: true, 2: true };
  return (e) => {
    const parts: Buffer[] = [];
    const prefix = Buffer.from(`${opts.timestamps ? `${formatNanoTime(e.ts === 0n ? GO_ZERO_TIME : e.ts)} ` : ''}${opts.details ? ' ' : ''}`);
    for (let start = 0; start < e.data.length;) {
      const nl = e.data.indexOf(10, start);
      const stop = nl < 0 ? e.data.length : nl + 1;
      if (atStart[e.ch]) parts.push(prefix);
      parts.push(e.data.subarray(start, stop));
      atStart[e.ch] = nl >= 0;
      start = stop;
    }
    return parts.length ? [encodeLogRecord(e.ch, Buffer.concat(parts))] : [];
  };
}

/** 0001-01-01T00:00:00Z (Go's zero time) in ns since the epoch. */
const GO_ZERO_TIME = -62135596800n * 1_000_000_000n;

/** The last `tail` lines of the entries, each one entry with its channel and the time of its first bytes. */
function lastLines(entries: LogEntry[], tail: number): LogEntry[] {
  const lines: LogEntry[] = [];
  const partial: Partial<Record<1 | 2, { ts: bigint; parts: Buffer[] }>> = {};
  for (const e of entries) {
    let start = 0;
    for (let i = e.data.indexOf(10); i >= 0; i = e.data.indexOf(10, i + 1)) {
      const p = partial[e.ch];
      const piece = e.data.subarray(start, i + 1);
      lines.push({ ch: e.ch, ts: p ? p.ts : e.ts, data: p ? Buffer.concat([...p.parts, piece]) : piece });
      delete partial[e.ch];
      start = i + 1;
    }
    if (start < e.data.length) (partial[e.ch] ??= { ts: e.ts, parts: [] }).parts.push(e.data.subarray(start));
  }
  for (const ch of [1, 2] as const) { const p = partial[ch]; if (p) lines.push({ ch, ts: p.ts, data: Buffer.concat(p.parts) }); }
  return lines.slice(Math.max(0, lines.length - tail));
}
