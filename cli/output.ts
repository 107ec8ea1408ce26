/** Output helpers shaped like docker's: padded tables, human sizes, "2 hours ago". */
import { SbxError } from '../protocol/errors.js';
import { humanDuration } from '../protocol/units.js';

export { humanDuration };

/** Columns padded to the widest cell plus three spaces, as docker's tabwriter does. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** docker's units.HumanSize: decimal units, 3 significant digits ("4.26MB", "1.2kB", "0B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** docker's units.HumanDuration + " ago". */
export function timeAgo(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(Math.max(0, now - t) / 1000)} ago`;
}


/** docker's short ID: the first 12 hex characters of a digest. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * docker's CLI for a daemon refusal in most verbs (not run/create, which exit 125):
 * "Error response from daemon: MSG" on stderr, exit 1. Anything but the daemon's own refusal (not
 * an SbxError, or `unavailable`: no daemon answered) is rethrown, for main's "Error: …", 125.
 */
export function daemonError(stderr: NodeJS.WriteStream, e: unknown): number {
  if (!(e instanceof SbxError) || e.code === 'unavailable') throw e;
  stderr.write(`Error response from daemon: ${e.message}\n`);
  return 1;
}
