/** docker's `filters` query parameter, shared by the list and prune routes. */
import { SbxError } from '../../../protocol/index.js';

/** docker's filters query: {"key":["v1","v2"]} (or the old {"key":{"v1":true}}) as KEY=VALUE args. */
export function filterArgs(text: string | null): string[] {
  if (!text) return [];
  let f: unknown;
  try { f = JSON.parse(text); } catch { throw new SbxError('invalid_argument', `invalid filters: ${text.slice(0, 100)}`); }
  if (!f || typeof f !== 'object' || Array.isArray(f)) throw new SbxError('invalid_argument', `invalid filters: ${text.slice(0, 100)}`);
  return Object.entries(f as Record<string, unknown>).flatMap(([k, v]) => (Array.isArray(v) ? v : Object.keys(v as object)).map((x) => `${k}=${String(x)}`));
}
