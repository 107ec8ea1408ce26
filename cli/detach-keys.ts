/**
 * docker's detach keys: `--detach-keys` / config.json `detachKeys` in docker's syntax (moby/term
 * ToBytes): a comma list of single characters and `ctrl-@`, `ctrl-a`..`ctrl-z`, `ctrl-[`,
 * `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_` (any case). Default Ctrl-P Ctrl-Q. The matcher works as
 * docker's escape proxy: bytes that could start the sequence are held back; the whole sequence
 * detaches; anything else releases what was held, so Ctrl-P then x sends both.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SbxError } from '../protocol/index.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/** The bytes of a detach sequence; "" gives the default. @throws invalid_argument as docker words it */
export function parseDetachKeys(keys: string): Buffer {
  if (keys === '') return parseDetachKeys(DEFAULT_DETACH_KEYS);
  const bytes: number[] = [];
  for (const key of keys.split(',')) {
    const k = key.toLowerCase();
    if (Buffer.byteLength(key) === 1) bytes.push(key.charCodeAt(0));
    else if (k.length === 6 && k.startsWith('ctrl-') && CTRL.includes(k[5]!)) bytes.push(CTRL.indexOf(k[5]!));
    else throw new SbxError('invalid_argument', `Invalid detach keys (${keys}) provided`);
  }
  return Buffer.from(bytes);
}

/** The user's default: `detachKeys` of $DOCKER_CONFIG/config.json (or ~/.docker/config.json), as docker reads it. */
export function configuredDetachKeys(env: NodeJS.ProcessEnv): string {
  try {
    const file = join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { detachKeys?: unknown }).detachKeys;
    return typeof v === 'string' ? v : DEFAULT_DETACH_KEYS;
  } catch { return DEFAULT_DETACH_KEYS; }
}

/** The flag's value, else the config's: the bytes to watch for. */
export function detachKeys(flag: string | undefined, env: NodeJS.ProcessEnv): Buffer {
  return parseDetachKeys(flag ?? configuredDetachKeys(env));
}

/** Watches keyboard input for the sequence; feed() returns what to send on and whether it matched. */
export class DetachMatcher {
  private held = 0;
  constructor(private readonly keys: Uint8Array) {}

  feed(chunk: Uint8Array): { pass: Uint8Array; detach: boolean } {
    // a keystroke that cannot start the sequence goes on as it came (no copy: its echo waits for this)
    if (this.keys.length === 0 || (this.held === 0 && !chunk.includes(this.keys[0]!))) return { pass: chunk, detach: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held]) {
        if (++this.held === this.keys.length) { this.held = 0; return { pass: Buffer.from(out), detach: true }; }
        continue;
      }
      // a partial match that did not go on: release it, then look at this byte afresh
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = 0;
      if (byte === this.keys[0]) this.held = 1;
      else out.push(byte);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}
