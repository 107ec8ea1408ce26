/**
 * A session's tied terminal (at most one): a local client's own terminal handed to the TTY
 * process (runtime/relay.ts), so keys and echo skip JavaScript. The attachment that asked for it
 * gets no frames while tied: `pending` until the process exists (run -it attaches before the
 * start), `live` once the relay took it and was given the replay (the ring from the attachment's
 * cursor): from then on every byte the ring gets is already on that terminal, so the cursor
 * follows the ring's end. A tie ends with the connection (untie), with the detach keys (the
 * attachment ends: `escaped`), or when the terminal or the process goes (frames carry on).
 */
import type { Process } from '../runtime/runtime.js';
import type { Attachment } from './attachment.js';
import type { ByteRing } from './ring.js';
import { closeTerminal, type ClientTerminal } from './terminal.js';

export interface TieHost {
  process(): Process | undefined;
  /** The session's stdout ring (a TTY has no stderr). */
  ring: ByteRing;
  /** The detach keys were typed: end the attachment. */
  escaped(a: Attachment): void;
  /** Send what the attachment is owed, now in frames. */
  pump(a: Attachment): void;
}

export class Ties {
  private tiedTo?: Attachment;

  constructor(private readonly host: TieHost) {}

  /** No terminal is tied, and the process (if there is one yet) can take one. */
  free(): boolean {
    const p = this.host.process();
    return !this.tiedTo && (!p || typeof p.tie === 'function');
  }

  /** Tie `a`'s client terminal (owned from here on); it reaches the process now or at bound(). */
  take(a: Attachment, t: ClientTerminal, keys: Uint8Array): void {
    a.tie = { pending: { ...t, keys }, live: false };
    this.tiedTo = a;
    this.bound();
  }

  /** The process exists now: hand it the pending terminal. */
  bound(): void {
    const a = this.tiedTo;
    const t = a?.tie?.pending;
    const p = this.host.process();
    if (!a || !t || !p?.tie) return;
    a.tie!.pending = undefined;
    p.tie({
      input: t.input, output: t.output, client: t.client, detachKeys: t.keys,
      replay: () => {
        const ring = this.host.ring;
        const from = Math.max(a.cursor.stdout, ring.start);
        const b = ring.read(from, ring.end - from);
        a.cursor.stdout = a.acked.stdout = ring.end;
        if (a.tie) a.tie.live = true;
        return b;
      },
      untied: (why) => this.untied(a, why),
    });
  }

  /** Let `a`'s terminal go, if it has one (closed; a pending one never reached the process). */
  untie(a: Attachment): void {
    if (this.tiedTo !== a) return;
    this.tiedTo = undefined;
    const t = a.tie;
    a.tie = undefined;
    if (t?.pending) closeTerminal(t.pending);
    else this.host.process()?.untie?.();
  }

  untieAll(): void { if (this.tiedTo) this.untie(this.tiedTo); }

  private untied(a: Attachment, why: 'escaped' | 'gone'): void {
    if (this.tiedTo !== a) return;
    this.tiedTo = undefined;
    a.tie = undefined;
    if (why === 'escaped') this.host.escaped(a);
    else this.host.pump(a);
  }
}
