/** A keyed async mutex: work under the same key runs one at a time, in arrival order. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Shared/exclusive lock. Writers of new content hold it shared for the whole operation (blobs
 * first, then the tag), garbage collection holds it exclusive, so a collection never removes
 * blobs that an unfinished import is about to reference.
 */
export class SharedLock {
  private shared = 0;
  private exclusive = false;
  private waiters: { exclusive: boolean; wake: () => void }[] = [];

  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusive || this.waiters.some((w) => w.exclusive)) await this.wait(false);
    this.shared++;
    try { return await fn(); } finally { this.shared--; this.pump(); }
  }

  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusive || this.shared > 0) await this.wait(true);
    this.exclusive = true;
    try { return await fn(); } finally { this.exclusive = false; this.pump(); }
  }

  private wait(exclusive: boolean): Promise<void> {
    return new Promise((wake) => this.waiters.push({ exclusive, wake }));
  }

  private pump(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.wake();
  }
}
