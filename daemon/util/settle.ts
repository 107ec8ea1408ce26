/**
 * HeapSettler: give memory back after a burst of work. Once sbxd has been quiet for `quietMs`
 * (no API request begun or finished), one full GC that compacts every page: V8's own full GCs
 * only compact the most fragmented ones, so the old space of an idle daemon keeps ~3 MiB of
 * free-listed pages it never returns (measured: heapTotal 14.2 → 12.0 MiB after start-up, PSS
 * −2.6 MiB); then malloc_trim(0) (the console addon's trimMalloc, when it loads): glibc keeps
 * the free pages inside its arenas, 4–9 MiB after start-up (idle sbxd anon PSS 20.5–26.0 →
 * 16.3–16.9 MiB). A few ms of CPU once per burst, never on a request's path.
 * Work without requests (each running container's journal rescans its layer every 10 s) leaves
 * garbage that an idle V8 keeps: with 100 idle containers sbxd's anon PSS crept from 20.8 to 23.2
 * MiB within a minute. So every `watchMs` the settler looks at the heap (a cheap counter) and
 * settles again when it grew by `growth` bytes since the last settle.
 * - busy(): work happened; (re)starts the quiet timer.
 * - close(): no more collections.
 */
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CONSOLE_ADDON as addonPath } from '../runtime/pty.js';

export interface HeapSettler { busy(): void; close(): void }

let trim: (() => void) | undefined;
function trimMalloc(): void {
  try {
    trim ??= (createRequire(import.meta.url)(addonPath) as { trimMalloc(): void }).trimMalloc;
    trim();
  } catch { trim = () => undefined; /* not built: the V8 half still runs */ }
}

export interface SettlerOptions {
  /** Quiet time after busy() before settling. */
  quietMs?: number;
  /** How often the heap's growth since the last settle is looked at. */
  watchMs?: number;
  /** Growth of the used heap (bytes) that makes an idle daemon settle again. */
  growth?: number;
  /** Called after each settle with the used heap it left. */
  onSettle?: (usedBytes: number) => void;
}

export function heapSettler({ quietMs = 1000, watchMs = 15_000, growth = 1 << 20, onSettle }: SettlerOptions = {}): HeapSettler {
  let timer: NodeJS.Timeout | undefined;
  let gc: (() => void) | undefined;
  let settledAt = Infinity; // used heap after the last settle (none yet: never from the watch)
  const settle = (): void => {
    timer = undefined;
    if (!gc) {
      // sbxd runs with --expose-gc (node-flags.ts); a daemon inside another process (tests) gets one
      // from a context of its own
      gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) {
        v8.setFlagsFromString('--expose-gc');
        gc = vm.runInNewContext('gc') as () => void;
      }
    }
    v8.setFlagsFromString('--compact-on-every-full-gc');
    try { gc(); } finally { v8.setFlagsFromString('--no-compact-on-every-full-gc'); }
    trimMalloc();
    settledAt = v8.getHeapStatistics().used_heap_size;
    onSettle?.(settledAt);
  };
  let closed = false;
  const watch = setInterval(() => {
    if (!timer && v8.getHeapStatistics().used_heap_size - settledAt >= growth) settle();
  }, watchMs);
  watch.unref();
  return {
    busy() {
      if (closed) return;
      clearTimeout(timer);
      timer = setTimeout(settle, quietMs);
      timer.unref();
    },
    close() { closed = true; clearTimeout(timer); clearInterval(watch); },
  };
}
