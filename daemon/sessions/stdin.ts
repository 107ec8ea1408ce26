/**
 * The stdin of a session's process: one queue for every attachment, in arrival order, each
 * frame written whole. Bytes and the EOF that arrive before the process is bound wait for it.
 */
import type { Process } from '../runtime/runtime.js';

type Op = () => Promise<void> | void;

export class StdinQueue {
  closed = false;
  private process?: Process;
  /** A write the kernel did not take at once is in progress: later operations wait here. */
  private busy = false;
  private waiting: Op[] = [];
  private early: Buffer[] = [];

  bind(p: Process): void {
    this.process = p;
    for (const b of this.early.splice(0)) this.enqueue(() => p.write(b));
    if (this.closed) this.enqueue(() => p.closeStdin());
  }

  write(b: Buffer): void {
    if (this.closed) return;
    const p = this.process;
    if (!p) { this.early.push(b); return; }
    this.enqueue(() => p.write(b));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const p = this.process;
    if (p) this.enqueue(() => p.closeStdin());
  }

  /**
   * Runs operations one after another; with none in progress, at once and without a promise (a
   * keystroke waits for no turn of the loop). One that returns a promise holds the rest until it settles.
   */
  private enqueue(op: Op): void {
    if (this.busy) { this.waiting.push(op); return; }
    for (let next: Op | undefined = op; next; next = this.waiting.shift()) {
      let pending: Promise<void> | void;
      try { pending = next(); } catch { pending = undefined; } // the process is gone
      if (pending) {
        this.busy = true;
        const go = (): void => { this.busy = false; const n = this.waiting.shift(); if (n) this.enqueue(n); };
        pending.then(go, go);
        return;
      }
    }
  }
}
