/**
 * Waiting for a session to be drained (Session.drained): released once the state says `done`,
 * or `limitMs` after it first says `lagging` (attachments that have not had the exit yet), or at
 * release(). `running`: the exit is still to come; no clock runs.
 */
export type DrainState = 'running' | 'lagging' | 'done';

export class Drain {
  private waiters: (() => void)[] = [];
  private limit?: NodeJS.Timeout;

  constructor(private readonly state: () => DrainState, private readonly limitMs: number) {}

  wait(): Promise<void> {
    return new Promise((r) => { this.waiters.push(r); this.settle(); });
  }

  /** Look again (after an exit, a detach, a closed connection). */
  settle(): void {
    if (this.waiters.length === 0) return;
    const s = this.state();
    if (s === 'done') this.release();
    else if (s === 'lagging') this.limit ??= setTimeout(() => this.release(), this.limitMs).unref();
  }

  release(): void {
    clearTimeout(this.limit);
    this.limit = undefined;
    for (const w of this.waiters.splice(0)) w();
  }
}
