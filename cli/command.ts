/**
 * The shape of one CLI verb (one file per verb in cli/commands/). Arguments are validated before
 * any daemon call; results go to stdout, errors to stderr. A command returns its exit code
 * (default 0). Throw UsageError for bad flags/arguments (exit 1, like docker's usage errors);
 * an SbxError from the daemon exits 125.
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
  run(args: Parsed, ctx: CliContext): Promise<number | void>;
}

export class UsageError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UsageError';
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
