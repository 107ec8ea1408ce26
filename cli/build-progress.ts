/**
 * Build progress as BuildKit prints it. plain (and no terminal): one line per event,
 * `#N [stage k/n] TEXT`, `#N CACHED`, `#N 0.52 output…`, `#N DONE 0.5s`. tty: the same lines,
 * but a running step's output redraws in place (its last line only), so the screen shows each
 * step once with its outcome.
 */
import type { BuildEvent } from '../protocol/index.js';

export function buildPrinter(out: NodeJS.WriteStream, mode: 'plain' | 'tty'): (e: BuildEvent) => void {
  const started = new Map<number, number>();
  const partial = new Map<number, string>();
  let live = false;
  const clear = (): void => { if (live) { out.write('\r\x1b[2K'); live = false; } };
  const line = (s: string): void => { clear(); out.write(s + '\n'); };
  const secs = (step: number): string => ((Date.now() - (started.get(step) ?? Date.now())) / 1000).toFixed(2);
  return (e) => {
    switch (e.kind) {
      case 'start':
        started.set(e.step, Date.now());
        line(`#${e.step} [${e.stage} ${e.step}/${e.total}] ${e.text}`);
        return;
      case 'cached': line(`#${e.step} CACHED`); return;
      case 'done': line(`#${e.step} DONE ${(e.ms / 1000).toFixed(1)}s`); return;
      case 'warning': line(`${e.src ? `${e.src.file}:${e.src.line}: ` : ''}${e.message}`); return;
      case 'error': line(`ERROR: ${e.message}`); return;
      case 'output': {
        const text = (partial.get(e.step) ?? '') + e.data;
        const lines = text.split('\n');
        partial.set(e.step, lines.pop() ?? '');
        if (mode === 'tty') {
          const last = lines.at(-1) ?? partial.get(e.step) ?? '';
          clear();
          out.write(`#${e.step} ${secs(e.step)} ${last}`.slice(0, (out.columns || 80) - 1));
          live = true;
          return;
        }
        for (const l of lines) line(`#${e.step} ${secs(e.step)} ${l}`);
      }
    }
  };
}
