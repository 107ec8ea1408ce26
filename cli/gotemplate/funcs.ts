/**
 * The functions a `--format` template may call: Go text/template's builtins and the ones the
 * docker CLI adds (json, join, split, lower, upper, title, truncate, pad, table is a prefix not a
 * function). Values are JSON values; they print as Go's fmt prints the same JSON decoded into
 * interface{} (`[a b]`, `map[k:v]`, `<nil>`, `<no value>` for a missing field).
 */
import { SbxError } from '../../protocol/index.js';

/** A missing map key: Go prints it as "<no value>". */
export const NO_VALUE: unique symbol = Symbol('no value');

export function goString(v: unknown): string {
  if (v === undefined || v === NO_VALUE) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.keys(v as object).sort().map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  return String(v);
}

/** Go's notion of "empty" (if, with, and, or, not). */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === NO_VALUE || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function fail(fn: string, msg: string): never {
  throw new SbxError('invalid_argument', `template: error calling ${fn}: ${msg}`);
}

function str(fn: string, v: unknown): string {
  if (typeof v !== 'string') fail(fn, `expected a string, got ${goString(v)}`);
  return v;
}

function int(fn: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(fn, `expected an integer, got ${goString(v)}`);
  return v;
}

function same(a: unknown, b: unknown): boolean {
  if (a === NO_VALUE) a = undefined;
  if (b === NO_VALUE) b = undefined;
  if (typeof a === 'object' && a !== null || typeof b === 'object' && b !== null) fail('eq', 'incomparable types');
  return a === b;
}

function order(fn: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return fail(fn, `incompatible types for comparison: ${goString(a)} and ${goString(b)}`);
}

/** printf: Go's verbs as far as a format line needs them (%v %s %d %q %t %f %x %%, width, '-', '0', precision). */
export function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  const out = format.replace(/%([-+ 0#]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (whole, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    let s: string;
    switch (verb) {
      case 'v': case 's': s = goString(a); break;
      case 'q': s = JSON.stringify(typeof a === 'string' ? a : goString(a)); break;
      case 'd': s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goString(a)})`; break;
      case 't': s = typeof a === 'boolean' ? String(a) : `%!t(${goString(a)})`; break;
      case 'f': s = typeof a === 'number' ? a.toFixed(prec === undefined ? 6 : Number(prec)) : `%!f(${goString(a)})`; break;
      case 'x': case 'X': s = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(goString(a)).toString('hex'); if (verb === 'X') s = s.toUpperCase(); break;
      default: return `%!${verb}(${goString(a)})`;
    }
    if ((verb === 's' || verb === 'v') && prec !== undefined) s = [...s].slice(0, Number(prec)).join('');
    const w = width === undefined ? 0 : Number(width);
    if ([...s].length >= w) return s;
    const pad = w - [...s].length;
    if (flags.includes('-')) return s + ' '.repeat(pad);
    if (flags.includes('0') && /^[-+]?\d/.test(s)) return s.startsWith('-') ? `-${'0'.repeat(pad)}${s.slice(1)}` : '0'.repeat(pad) + s;
    return ' '.repeat(pad) + s;
    void whole;
  });
  return n < args.length ? `${out}%!(EXTRA ${args.slice(n).map(goString).join(', ')})` : out;
}

export type Fn = (...args: unknown[]) => unknown;

export const FUNCS: Record<string, Fn> = {
  // Go's builtins
  and: (...a) => { for (const v of a) if (!truth(v)) return v; return a[a.length - 1]; },
  or: (...a) => { for (const v of a) if (truth(v)) return v; return a[a.length - 1]; },
  not: (v) => !truth(v),
  len: (v) => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    return fail('len', `len of ${goString(v)}`);
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur)) { const i = int('index', k); if (i < 0 || i >= cur.length) fail('index', `index out of range: ${i}`); cur = cur[i]; }
      else if (cur && typeof cur === 'object') cur = Object.prototype.hasOwnProperty.call(cur, String(k)) ? (cur as Record<string, unknown>)[String(k)] : NO_VALUE;
      else if (cur === null || cur === undefined || cur === NO_VALUE) return NO_VALUE;
      else fail('index', `can't index item of type ${typeof cur}`);
    }
    return cur;
  },
  slice: (v, ...idx) => {
    const [a = 0, b] = idx.map((x) => int('slice', x));
    if (typeof v === 'string' || Array.isArray(v)) return v.slice(a, b);
    return fail('slice', `can't slice item of type ${typeof v}`);
  },
  print: (...a) => a.map((v, i) => (i > 0 && typeof v !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + goString(v)).join(''),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  printf: (f, ...a) => sprintf(str('printf', f), a),
  eq: (a, ...bs) => { if (!bs.length) fail('eq', 'missing argument for comparison'); return bs.some((b) => same(a, b)); },
  ne: (a, b) => !same(a, b),
  lt: (a, b) => order('lt', a, b) < 0,
  le: (a, b) => order('le', a, b) <= 0,
  gt: (a, b) => order('gt', a, b) > 0,
  ge: (a, b) => order('ge', a, b) >= 0,
  // the docker CLI's (cli/templates/templates.go)
  json: (v) => JSON.stringify(v === NO_VALUE || v === undefined ? null : v),
  join: (list, sep) => { if (!Array.isArray(list)) fail('join', `expected a list, got ${goString(list)}`); return list.map(goString).join(str('join', sep)); },
  split: (s, sep) => str('split', s).split(str('split', sep)),
  lower: (s) => str('lower', s).toLowerCase(),
  upper: (s) => str('upper', s).toUpperCase(),
  title: (s) => str('title', s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  truncate: (s, n) => { const t = [...str('truncate', s)]; const k = int('truncate', n); return t.length > k ? t.slice(0, k).join('') : t.join(''); },
  pad: (s, pre, post) => `${' '.repeat(int('pad', pre))}${goString(s)}${' '.repeat(int('pad', post))}`,
};

export const FUNC_NAMES: ReadonlySet<string> = new Set(Object.keys(FUNCS));
