/**
 * Time on the wire, as docker writes it: instants are nanoseconds since the epoch (bigint on the
 * daemon's side, "SECONDS.NANOS" in a query, as docker's API takes since/until), shown as
 * RFC3339 with nine fixed fraction digits (`2026-12-06T02:00:00.000000000Z`, docker's
 * RFC3339NanoFixed, always UTC here).
 *
 * parseTimeArg() is docker's CLI rule for --since/--until (api/types/time GetTimestamp): a Go
 * duration (`10m`, `1h30m`, `1.5h`) is that long before `now`; an RFC3339 date or time, with or
 * without fraction and zone (no zone: the local zone, as docker); a unix timestamp `SECONDS[.NANOS]`
 * passes as it is. Errors are plain Error with docker's wording (the caller makes it a flag error).
 */
import { parseGoDuration } from './units.js';

/** "SECONDS[.NANOS]" (docker's API form) → nanoseconds; undefined when malformed. */
export function parseUnixTime(s: string): bigint | undefined {
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(s);
  if (!m) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  const secs = BigInt(m[1]!);
  return secs * 1_000_000_000n + (m[1]!.startsWith('-') ? -frac : frac);
}

/** Nanoseconds → "SECONDS.NANOS". */
export function formatUnixTime(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = (ns < 0n ? -ns : ns) % 1_000_000_000n;
  return `${secs}.${String(frac).padStart(9, '0')}`;
}

/** Nanoseconds → `2026-12-06T02:00:00.123456789Z`. */
export function formatNanoTime(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 2026-12-06T02:00:00.123Z
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  return `${iso.slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

/** A --since/--until value → docker's API form "SECONDS[.NANOS]" (see the header). */
export function parseTimeArg(value: string, now: Date = new Date()): string {
  const d = value !== '0' ? parseGoDuration(value) : undefined;
  if (d !== undefined) return String(Math.floor((now.getTime() - d / 1e6) / 1000));
  if (/^-?\d+(\.\d{1,9})?$/.test(value)) return value;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!m) {
    if (value.includes('-')) throw new Error(`parsing time "${value}": not an RFC3339 date or time`);
    throw new Error(`failed to parse value as time or duration: "${value}"`);
  }
  const [, y, mo, dd, hh = '00', mi = '00', ss = '00', frac = '', zone] = m;
  const local = `${y}-${mo}-${dd}T${hh}:${mi}:${ss}`;
  let ms: number;
  if (!zone) ms = new Date(local).getTime(); // no zone: local time, as docker's ParseInLocation
  else ms = Date.parse(`${local}${zone.toUpperCase()}`);
  if (!Number.isFinite(ms)) throw new Error(`parsing time "${value}": out of range`);
  return `${Math.floor(ms / 1000)}.${frac.padEnd(9, '0')}`;
}
