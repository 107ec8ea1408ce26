/**
 * ContainerEvents: what the container manager announces about a container's lifecycle, for
 * listeners that keep per-container state beside it (the change recorder's journals).
 *
 * Contract
 * - 'started' fires once the container's main process runs and its state is written; the
 *   manager does not wait for listeners (a slow journal never delays `sbx start`).
 * - 'exited' fires once the main process has exited and its state is written, before anyone
 *   waiting on the container (`sbx wait`, `sbx run`) hears of it: the manager awaits every
 *   listener, so what a listener finishes on exit is seen by the next request.
 * - Listeners are called synchronously, in subscription order, with the container's full id;
 *   a listener that throws or rejects is reported to the manager's error hook and does not
 *   stop the others. on() returns the unsubscribe function.
 */
export type LifecycleEvent = 'started' | 'exited';
export type LifecycleListener = (id: string) => void | Promise<void>;

export interface ContainerEvents {
  on(event: LifecycleEvent, listener: LifecycleListener): () => void;
}

/** The manager's side: emit() settles when every listener has. */
export class LifecycleEmitter implements ContainerEvents {
  private readonly listeners = new Map<LifecycleEvent, Set<LifecycleListener>>();

  constructor(private readonly onError: (event: LifecycleEvent, id: string, error: unknown) => void) {}

  on(event: LifecycleEvent, listener: LifecycleListener): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return () => { set.delete(listener); };
  }

  async emit(event: LifecycleEvent, id: string): Promise<void> {
    const calls = [...this.listeners.get(event) ?? []].map((fn) => {
      try { return Promise.resolve(fn(id)); } catch (e) { return Promise.reject(e); }
    });
    for (const r of await Promise.allSettled(calls)) if (r.status === 'rejected') this.onError(event, id, r.reason);
  }
}
