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

export function parseCommandArgs(argv: string[], options: Options, stopAtPositional: boolean, usage: string): Parsed {
  let head = argv;
  let tail: string[] = [];
  if (stopAtPositional) {
    const i = firstPositional(argv, options);
    head = argv.slice(0, i);
    tail = argv.slice(i);
    if (tail[0] === '--') tail = tail.slice(1);
  }
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
