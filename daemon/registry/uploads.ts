/**
 * Blob upload sessions of the embedded registry (distribution spec "pushing blobs"): each session
 * is a content-store Ingest bound to one repository, appended to by PATCH in order, committed by
 * PUT?digest= after the digest is verified. Sessions idle longer than `ttlMs` are aborted by a
 * sweeper, so an abandoned push leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import type { ContentStore, Ingest } from '../content/store.js';
import { KeyedMutex } from '../util/lock.js';

export interface UploadSession {
  id: string;
  repo: string;
  ingest: Ingest;
  touched: number;
}

export class Uploads {
  private readonly sessions = new Map<string, UploadSession>();
  private readonly mutex = new KeyedMutex();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly content: ContentStore, private readonly ttlMs: number) {
    this.timer = setInterval(() => { void this.sweep(); }, Math.max(50, Math.min(ttlMs / 2, 60_000)));
    this.timer.unref();
  }

  async start(repo: string): Promise<UploadSession> {
    const id = randomUUID();
    const ingest = await this.content.ingest(`upload-${id}`);
    const s: UploadSession = { id, repo, ingest, touched: Date.now() };
    this.sessions.set(id, s);
    return s;
  }

  /** The session, if it exists and belongs to `repo`. */
  get(repo: string, id: string): UploadSession | undefined {
    const s = this.sessions.get(id);
    return s && s.repo === repo ? s : undefined;
  }

  /** Run `fn` with the session held exclusively (chunks of one session never interleave). */
  async with<T>(s: UploadSession, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(s.id, async () => {
      try { return await fn(); } finally { s.touched = Date.now(); }
    });
  }

  /** Forget a session (after commit, or to cancel: aborts its ingest). */
  async end(s: UploadSession, abort: boolean): Promise<void> {
    this.sessions.delete(s.id);
    if (abort) await s.ingest.abort();
  }

  get size(): number { return this.sessions.size; }

  async sweep(now = Date.now()): Promise<void> {
    for (const s of [...this.sessions.values()]) {
      if (now - s.touched <= this.ttlMs) continue;
      await this.mutex.run(s.id, async () => {
        if (this.sessions.get(s.id) === s && Date.now() - s.touched > this.ttlMs) await this.end(s, true);
      });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of [...this.sessions.values()]) await this.end(s, true);
  }
}
