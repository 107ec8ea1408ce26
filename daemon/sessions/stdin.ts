/**
 * The stdin of a session's process: one queue for every attachment, in arrival order, each
 * frame written whole. Bytes and the EOF that arrive before the process is bound wait for it.
 */
import type { Process } from '../runtime/runtime.js';

export class StdinQueue {
  closed = false;
  private process?: Process;
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
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

  /** Runs operations one after another; with none in progress, at once (a keystroke waits for no turn of the loop). */
  private enqueue(op: () => Promise<void> | void): void {
    const run = async (): Promise<void> => { try { await op(); } catch { /* the process is gone */ } finally { this.queued--; } };
    this.tail = this.queued++ === 0 ? run() : this.tail.then(run);
  }
}
