import { parseArgs } from 'node:util';
import { UsageError, type Options, type Parsed } from './command.js';

/**
 * Index of the first positional argument in argv, honouring which options take a value, so that
 * `sbx run -it busybox sh -c 'ls -l'` leaves `sh -c 'ls -l'` to the container.
 */
export function firstPositional(argv: string[], options: Options): number {
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--') return i;
    if (t.startsWith('--')) {
      const name = t.slice(2).split('=')[0]!;
      if (!t.includes('=') && options[name]?.type === 'string') i++;
      continue;
    }
    if (t.startsWith('-') && t.length > 1) {
      for (let j = 1; j < t.length; j++) {
        const name = byShort.get(t[j]!);
        if (name && options[name]!.type === 'string') {
          if (j === t.length - 1) i++;
          break;
        }
      }
      continue;
    }
    return i;
  }
  return argv.length;
}

/**
 * pflag takes the token after a value flag as its value whatever it looks like (`--pids-limit -1`,
 * `-m -1`); util.parseArgs calls a dash-led one ambiguous. Such pairs become `--name=VALUE`.
 */
function attachValues(argv: string[], options: Options): string[] {
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    const next = argv[i + 1];
    if (t === '--') { out.push(...argv.slice(i)); break; }
    const long = /^--([^=]+)$/.exec(t)?.[1];
    const short = !long && /^-[^-]+$/.test(t) ? byShort.get(t[t.length - 1]!) : undefined;
    const name = long ?? short;
    const valueFlag = name !== undefined && options[name]?.type === 'string' && (long !== undefined || onlyBooleansBefore(t, byShort, options));
    if (!valueFlag || next === undefined || !next.startsWith('-') || next === '-') { out.push(t); continue; }
    if (short && t.length > 2) out.push(t.slice(0, -1));
    out.push(`--${name}=${next}`);
    i++;
  }
  return out;
}

/** In a cluster like -it or -dm, every letter before the last is a boolean flag (else the rest was a value). */
function onlyBooleansBefore(t: string, byShort: Map<string, string>, options: Options): boolean {
  for (const ch of t.slice(1, -1)) if (options[byShort.get(ch) ?? '']?.type !== 'boolean') return false;
  return true;
}

export function parseCommandArgs(argv: string[], options: Options, stopAtPositional: boolean, usage: string): Parsed {
  let head = argv;
  let tail: string[] = [];
  if (stopAtPositional) {
    const i = firstPositional(argv, options);
    head = argv.slice(0, i);
    tail = argv.slice(i);
    if (tail[0] === '--') tail = tail.slice(1);
  }
  head = attachValues(head, options);
  // docker's `--flag=false` / `--flag=true` for boolean flags (util.parseArgs rejects a value).
  const forced: Record<string, boolean> = {};
  head = head.filter((t) => {
    const m = /^--([^=]+)=(true|false)$/.exec(t);
    if (!m || options[m[1]!]?.type !== 'boolean') return true;
    forced[m[1]!] = m[2] === 'true';
    return false;
  });
  try {
    const { values, positionals } = parseArgs({ args: head, options, allowPositionals: true, strict: true });
    return { values: { ...values, ...forced } as Parsed['values'], positionals: [...positionals, ...tail] };
  } catch (e) {
    // util.parseArgs's wording → pflag's, so that the message and the exit code (125) are docker's.
    const msg = (e as Error).message
      .replace(/^Unknown option '(--.*?)'.*$/s, 'unknown flag: $1')
      .replace(/^Unknown option '-(.)'.*$/s, "unknown shorthand flag: '$1' in -$1")
      .replace(/^Option '(?:-., )?(--[^ ']+).*' argument missing$/s, 'flag needs an argument: $1')
      .replace(/^Option '(?:-., )?(--[^ ']+)' does not take an argument$/s, 'invalid argument for "$1" flag: a boolean flag takes no value');
    throw new UsageError(msg, usage);
  }
}
