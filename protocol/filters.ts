/**
 * docker's `--filter KEY=VALUE` for containers, one implementation for `ps --filter` and
 * `container prune --filter`: a filter repeated with the same key ORs, different keys AND.
 * Keys (docker's semantics):
 * - status=created|restarting|running|removing|paused|exited|dead
 * - name=REGEXP (matched anywhere in "/NAME", as docker's; a pattern that is not a valid regular
 *   expression matches as plain text)
 * - id=PREFIX, ancestor=IMAGE (the image as typed, its ID or ID prefix), exited=CODE
 * - label=KEY or label=KEY=VALUE, label!=... (prune only in docker; accepted for both)
 * - until=TIMESTAMP|DURATION (created before; prune only)
 * - health=starting|healthy|unhealthy|none (none: no health check, or not running)
 * Errors: invalid_argument "invalid filter 'x'" for a malformed or unknown filter (docker's text).
 */
import { SbxError } from './errors.js';
import { parseGoDuration } from './units.js';

export type Filters = Map<string, string[]>;

/** What a filter looks at: ContainerSummary's fields, plus labels where the container has them. */
export interface FilterableContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: string;
  state: string;
  exitCode?: number;
  labels?: Record<string, string>;
  health?: string;
}

const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Parse `KEY=VALUE` strings; `allowed` names the keys this verb accepts. @throws invalid_argument */
export function parseFilters(args: string[], allowed: readonly string[]): Filters {
  const out: Filters = new Map();
  for (const a of args) {
    const m = /^(label!|[a-z]+)=(.*)$/s.exec(a);
    if (!m) throw new SbxError('invalid_argument', `bad format of filter (expected name=value)`);
    const [, key, value] = m as unknown as [string, string, string];
    if (!allowed.includes(key)) throw new SbxError('invalid_argument', `invalid filter '${key}'`);
    if (key === 'status' && !STATUSES.includes(value)) throw new SbxError('invalid_argument', `invalid filter 'status=${value}'`);
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw new SbxError('invalid_argument', `invalid filter 'exited=${value}'`);
    if (key === 'until') untilTime(value);
    if (key === 'health' && !HEALTH.includes(value)) throw new SbxError('invalid_argument', `Unrecognised filter value for health: ${value}`);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** docker's until= value: a Unix timestamp (seconds, fractions allowed), an RFC 3339 date, or a Go duration before now. */
export function untilTime(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(v) ? parseGoDuration(v) : undefined;
  if (d !== undefined) return now - d / 1e6;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new SbxError('invalid_argument', `invalid filter 'until=${v}': not a timestamp or duration`);
  return t;
}

function pattern(v: string): RegExp {
  try { return new RegExp(v); } catch { return new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')); }
}

function labelMatches(labels: Record<string, string>, want: string): boolean {
  const i = want.indexOf('=');
  if (i < 0) return want in labels;
  return labels[want.slice(0, i)] === want.slice(i + 1);
}

/** Does the container pass every filter? `exited` matches only exited containers, as docker's. */
export function matchContainer(f: Filters, c: FilterableContainer, now = Date.now()): boolean {
  const any = (key: string, test: (v: string) => boolean): boolean => !f.has(key) || f.get(key)!.some(test);
  const short = (d: string): string => d.replace(/^sha256:/, '');
  const labels = c.labels ?? {};
  return any('status', (v) => v === c.state)
    && any('name', (v) => pattern(v).test(`/${c.name.replace(/^\//, '')}`))
    && any('id', (v) => c.id.startsWith(v))
    && any('ancestor', (v) => v === c.image || c.image.startsWith(`${v}:`) || (/^(sha256:)?[a-f0-9]{4,}$/.test(v) && short(c.imageId).startsWith(short(v))))
    && any('exited', (v) => c.state === 'exited' && c.exitCode === Number(v))
    && any('health', (v) => (c.health ?? 'none') === v)
    && (!f.has('label') || f.get('label')!.every((v) => labelMatches(labels, v)))
    && (!f.has('label!') || f.get('label!')!.every((v) => !labelMatches(labels, v)))
    && any('until', (v) => Date.parse(c.created) < untilTime(v, now));
}
