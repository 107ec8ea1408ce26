/**
 * ChangeRecorder: one Journal per running container, opened when the container starts and
 * closed (after a last rescan) when it exits; the journal file stays for `sbx events` after the
 * container exits.
 *
 * It follows the container manager's lifecycle events (ContainerAccess.on): 'started' opens the
 * journal at once (a change made in the first milliseconds is found by the journal's first
 * scan), 'exited' is awaited by the manager, so the last rescan is written before anyone hears
 * of the exit. After close() it opens nothing. What a journal watches comes from the differ
 * (follow): a container layer to watch, or (copy-based snapshots) a whole tree that periodic
 * double walks compare with the image's.
 */
import type { ChangeRecord } from '../../protocol/index.js';
import type { Differ } from '../snapshots/differ.js';
import type { Logger } from '../util/log.js';
import type { ContainerAccess, ContainerView } from './containers.js';
import { Journal, readJournal } from './journal.js';
import { excludeFilter } from './stubs.js';

export class ChangeRecorder {
  private readonly journals = new Map<string, Promise<Journal | undefined>>();
  private readonly ended = new Map<string, Set<() => void>>();
  private readonly unsubscribe: (() => void)[];
  private closed = false;

  constructor(private readonly access: ContainerAccess, private readonly differ: Differ, private readonly log: Logger) {
    this.unsubscribe = [access.on('started', (id) => this.started(id)), access.on('exited', (id) => this.exited(id))];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.unsubscribe) off();
    for (const id of [...this.journals.keys()]) await this.stop(id);
  }

  private async open(c: ContainerView): Promise<Journal | undefined> {
    try {
      const rootfs = await this.access.rootfs(c.id);
      return await Journal.open({ id: c.id, dir: c.dir, ...this.differ.follow(rootfs), exclude: excludeFilter() }, { log: this.log });
    } catch (e) {
      this.log.warn('change recorder: cannot open the journal', { id: c.id, error: String(e) });
      return undefined;
    }
  }

  private async stop(id: string): Promise<void> {
    const j = await this.journals.get(id);
    this.journals.delete(id);
    await j?.close();
    for (const fn of this.ended.get(id) ?? []) fn();
    this.ended.delete(id);
  }

  /** A container started: its journal opens. */
  private async started(id: string): Promise<void> {
    if (this.closed || this.journals.has(id)) return;
    const c = this.access.find(id);
    this.journals.set(id, this.open(c));
    await this.journals.get(id);
  }

  /**
   * A container's process exited: a last rescan (also for a container that ran too briefly for
   * its journal to open), then the journal closes.
   */
  private async exited(id: string): Promise<void> {
    if (this.closed) return;
    if (!this.journals.has(id)) {
      let c: ContainerView;
      try { c = this.access.find(id); } catch { return; }
      this.journals.set(id, this.open(c));
    }
    await this.stop(id);
  }

  /** The live journal of a running container, if it has one. */
  async live(id: string): Promise<Journal | undefined> {
    return this.journals.get(id);
  }

  /**
   * Bring a container's journal up to date after sbxd itself wrote into its tree (`sbx cp`): a
   * running container's journal rescans now; a stopped one's opens, rescans once and closes.
   */
  async rescan(id: string): Promise<void> {
    if (this.closed) return;
    const live = await this.journals.get(id);
    if (live) { await live.flush(); return; }
    if (this.journals.has(id)) return;
    this.journals.set(id, this.open(this.access.find(id)));
    await this.stop(id);
    // It started meanwhile (its 'started' saw our journal and opened none): open its own.
    if (this.access.find(id).running) await this.started(id);
  }

  /** Records after `since`, settled: a running container's pending rescans are done first. */
  async records(c: ContainerView, since = 0): Promise<{ records: ChangeRecord[]; last: number }> {
    const j = await this.live(c.id);
    if (j) await j.flush();
    const records = await readJournal(c.dir, 0);
    const last = records.length ? records[records.length - 1]!.seq : 0;
    return { records: records.filter((r) => r.seq > since), last };
  }

  /** Call `fn` once when the container's journal closes (it stopped). */
  onEnd(id: string, fn: () => void): () => void {
    const set = this.ended.get(id) ?? new Set();
    set.add(fn);
    this.ended.set(id, set);
    return () => set.delete(fn);
  }
}
