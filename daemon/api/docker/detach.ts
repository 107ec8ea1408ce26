/**
 * docker's detach keys on a TTY attachment (default ctrl-p,ctrl-q): stdin is scanned for the
 * sequence; bytes that may begin it are held back until it is complete (the client detaches: the
 * stream ends, stdin stays open, the container runs on) or broken (the held bytes go on, as
 * docker's term.EscapeProxy does).
 */
import { SbxError } from '../../../protocol/index.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** docker's `--detach-keys` syntax: comma-separated `ctrl-X` (X in a-z @ [ \ ] ^ _) or single characters. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) { out.push(k.charCodeAt(0)); continue; }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m) throw new SbxError('invalid_argument', `Invalid detach keys (${JSON.stringify(spec)}) provided: use ctrl-<value> (a-z, @, [, \\, ], ^, _) or single characters, comma-separated`);
    const c = m[1]!;
    out.push(c === '@' ? 0 : c >= 'a' ? c.charCodeAt(0) - 96 : 27 + '[\\]^_'.indexOf(c));
  }
  return Buffer.from(out);
}

/** A filter over stdin chunks: what to pass on, and whether the sequence was completed. */
export function detachScanner(keys: Buffer): (chunk: Buffer) => { pass: Buffer; detach: boolean } {
  let held = 0; // how many bytes of the sequence the last chunks ended with
  return (chunk) => {
    const pass: number[] = [];
    for (const b of chunk) {
      if (b === keys[held]) {
        held++;
        if (held === keys.length) return { pass: Buffer.from(pass), detach: true };
        continue;
      }
      for (let i = 0; i < held; i++) pass.push(keys[i]!);
      held = b === keys[0] ? 1 : 0;
      if (held === 0) pass.push(b);
    }
    return { pass: Buffer.from(pass), detach: false };
  };
}
