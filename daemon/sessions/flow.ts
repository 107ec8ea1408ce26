/**
 * When a session holds its process (stops reading its output) rather than drop bytes a viewer
 * still needs:
 * - Non-TTY: while any rw attachment, connected or resumable, lags by a ring (pipes lose
 *   nothing).
 * - TTY: only while every connected rw attachment lags by most of a ring, so the fastest viewer
 *   sets the pace, as a terminal does for the program writing to it: a lone slow terminal gets
 *   every byte, a slow viewer beside a faster one gets a gap instead of stalling it, and a
 *   shell nobody is attached to never blocks.
 * `paused` (the current state) gives each rule hysteresis: release at half a ring.
 */
import type { OutputStream } from '../../protocol/index.js';
import { STREAMS, type Attachment } from './attachment.js';
import type { ByteRing } from './ring.js';

export function mustHold(tty: boolean, paused: boolean, attachments: Iterable<Attachment>, rings: Record<OutputStream, ByteRing>): boolean {
  const cap = rings.stdout.capacity;
  if (tty) {
    let least = Infinity;
    for (const a of attachments) {
      if (a.mode !== 'rw' || !a.sink) continue;
      least = Math.min(least, rings.stdout.end - a.acked.stdout);
    }
    return least !== Infinity && (paused ? least >= cap >> 1 : least >= (cap >> 2) * 3);
  }
  let need = 0;
  for (const a of attachments) {
    if (a.mode !== 'rw') continue;
    for (const s of STREAMS) need = Math.max(need, rings[s].end - a.acked[s]);
  }
  return paused ? need >= cap / 2 : need >= cap;
}
