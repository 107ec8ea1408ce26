/**
 * Wall-clock time in nanoseconds since the epoch, for log records and events (docker's
 * timeNano). Date.now() gives milliseconds; the monotonic clock fills in the rest, so two calls
 * never go backwards and rarely tie.
 */
import { SbxError, parseUnixTime } from '../../protocol/index.js';

const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let last = 0n;

export function nowNano(): bigint {
  let t = base + process.hrtime.bigint();
  if (t <= last) t = last + 1n;
  last = t;
  return t;
}

/** A since/until request field ("SECONDS[.NANOS]", docker's API form) → ns; absent or empty → undefined. @throws invalid_argument */
export function timeParam(name: string, value: string | null | undefined): bigint | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ns = parseUnixTime(value);
  if (ns === undefined) throw new SbxError('invalid_argument', `${name}: invalid time ${JSON.stringify(value)} (expected SECONDS[.NANOSECONDS] since the epoch)`);
  return ns;
}
