/** docker's go-units formatting, shared by the daemon (container status) and the CLI. */

/** units.HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks". */
export function humanDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(seconds / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(seconds / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("30s", "1m30s", "500ms", "0"; a leading "-" negative) in nanoseconds, or undefined when malformed. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0' || s === '-0' || s === '+0') return 0;
  const sign = s.startsWith('-') ? -1 : 1;
  const body = s.replace(/^[-+]/, '');
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < body.length) {
    re.lastIndex = i;
    const m = re.exec(body);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    i = re.lastIndex;
  }
  return body.length ? sign * Math.round(total) : undefined;
}

/** Go's time.Duration String(): 0s, 500ms, 1.5s, 1m30s, 1h0m0s. */
export function formatGoDuration(ns: number | undefined): string {
  if (!ns) return '0s';
  if (ns < 1e9) {
    for (const [unit, size] of [['ms', 1e6], ['µs', 1e3], ['ns', 1]] as const) if (ns >= size) return `${+(ns / size).toFixed(6)}${unit}`;
  }
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = +((ns % 60e9) / 1e9).toFixed(9);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
