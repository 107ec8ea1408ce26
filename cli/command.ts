/**
 * The shape of one CLI verb (one file per verb in cli/commands/). Arguments are validated before
 * any daemon call; results go to stdout, errors to stderr. A command returns its exit code
 * (default 0). Throw UsageError for bad flags/arguments: a flag error (docker's wording, below)
 * exits 125 as docker's do, a wrong argument count 1; an SbxError from the daemon exits 125.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Client } from './client.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface CliContext {
  client: Client;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  /** Stop option parsing at the first positional (run/exec: the rest is the container's command). */
  stopAtPositional?: boolean;
  /** Does not talk to the daemon (no autostart). */
  local?: boolean;
  /** Its own sub-verbs taken as the first positional (`volume ls`), for completion. */
  subcommands?: string[];
  /** Options a sub-verb has otherwise (docker's `volume ls -f` is --filter where `volume rm -f` is --force). */
  verbOptions?: Record<string, Options>;
  run(args: Parsed, ctx: CliContext): Promise<number | void>;
}

/** docker's flag-error messages (pflag's wording, which every sbx flag check uses): these exit 125. */
const FLAG_ERROR = /^(unknown (shorthand )?flag|flag needs an argument|invalid argument (".*" )?for ".*" flag)/s;

export class UsageError extends Error {
  /** The exit status: 125 for a flag error as docker's FlagErrorFunc, 1 for other usage errors. */
  readonly status: number;
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UsageError';
    this.status = FLAG_ERROR.test(message) ? 125 : 1;
  }
}

/** The value of a string flag (last one wins), or undefined. */
export function str(v: Parsed['values'][string]): string | undefined {
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** All values of a repeatable string flag. */
export function strs(v: Parsed['values'][string]): string[] {
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' ? [v] : [];
}
