/**
 * ChangeRecorder: one Journal per running container, opened when the
 * container runs and closed (after a last rescan) when it stops; the journal file stays for
 * `sbx events` after the container exits.
 *
 * The container manager calls started(id) / exited(id); sync() (a 1 s timer, and every read)
 * reconciles the open journals with the containers' states in case a call was missed. A
 * copy-based (native) container has no upperdir to watch: its journal comes from periodic
 * double walks of its tree against the image's (Journal format 'full').
 */
import type { ChangeRecord } from '../../protocol/index.js';
import type { Logger } from '../util/log.js';
import type { ContainerAccess, ContainerView } from './containers.js';
import { Journal, readJournal } from './journal.js';
import { excludeFilter } from './stubs.js';
import { DirView, EMPTY_VIEW, LayeredView } from './view.js';

export class ChangeRecorder {
  private readonly journals = new Map<string, Promise<Journal | undefined>>();
  private readonly ended = new Map<string, Set<() => void>>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;

  constructor(private readonly getAccess: () => ContainerAccess, private readonly log: Logger) {}

  private get access(): ContainerAccess { return this.getAccess(); }

  start(periodMs = 1000): void {
    this.timer = setInterval(() => { void this.sync(); }, periodMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
    for (const id of [...this.journals.keys()]) await this.stop(id);
  }

  /** Open journals for running containers, close those of stopped or removed ones. */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const running = new Map<string, ContainerView>();
        for (const c of this.access.all()) if (c.running) running.set(c.id, c);
        for (const [id, c] of running) if (!this.journals.has(id)) this.journals.set(id, this.open(c));
        for (const id of [...this.journals.keys()]) if (!running.has(id)) await this.stop(id);
      } catch (e) {
        this.log.warn('change recorder: sync failed', { error: String(e) });
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private async open(c: ContainerView): Promise<Journal | undefined> {
    try {
      const rootfs = await this.access.rootfs(c.id);
      const lower = rootfs.format === 'overlay' ? new LayeredView(rootfs.lowerdirs) : rootfs.lowerdirs[0] ? new DirView(rootfs.lowerdirs[0]) : EMPTY_VIEW;
      return await Journal.open({ id: c.id, dir: c.dir, upper: rootfs.upperdir, lower, format: rootfs.format, exclude: excludeFilter() }, { log: this.log });
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

  /** The container manager calls this once the container runs: its journal opens. */
  async started(id: string): Promise<void> {
    if (this.journals.has(id)) return;
    const c = this.access.find(id);
    this.journals.set(id, this.open(c));
    await this.journals.get(id);
  }

  /**
   * The container manager calls this when the container's process has exited: a last rescan
   * (also for a container that ran too briefly for its journal to open), then the journal closes.
   */
  async exited(id: string): Promise<void> {
    if (!this.journals.has(id)) {
      let c: ContainerView;
      try { c = this.access.find(id); } catch { return; }
      this.journals.set(id, this.open(c));
    }
    await this.stop(id);
  }

  /** The live journal of a running container, if it has one. */
  async live(id: string): Promise<Journal | undefined> {
    await this.sync();
    return this.journals.get(id);
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
