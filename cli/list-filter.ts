/**
 * docker's `ls --filter KEY=VALUE` for lists the daemon returns whole (volumes, networks): each
 * key's values are alternatives, the keys all have to hold; name is a substring, label KEY or
 * KEY=VALUE; an unknown key or a malformed value is docker's error.
 */
import { SbxError } from '../protocol/index.js';
import { UsageError } from './command.js';

export type FilterFns<T> = Record<string, (item: T, value: string) => boolean>;

/** Parse `-f` values: KEY → values; a key not in `known` is refused as docker refuses it. */
export function parseListFilters(args: string[], known: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid argument "${a}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const key = a.slice(0, eq);
    if (!known.includes(key)) throw new SbxError('invalid_argument', `invalid filter '${key}'`);
    out.set(key, [...out.get(key) ?? [], a.slice(eq + 1)]);
  }
  return out;
}

export function applyListFilters<T>(items: T[], filters: Map<string, string[]>, fns: FilterFns<T>): T[] {
  return items.filter((item) => [...filters].every(([k, vs]) => vs.some((v) => fns[k]!(item, v))));
}

export function labelMatch(labels: Record<string, string> | undefined, want: string): boolean {
  const eq = want.indexOf('=');
  return eq < 0 ? want in (labels ?? {}) : labels?.[want.slice(0, eq)] === want.slice(eq + 1);
}
