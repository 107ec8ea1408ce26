/**
 * Docker-like progress for pull/push: one line per layer each time its state changes
 * ("a1b2c3d4e5f6: Pushed", "…: Layer already exists"); byte counts only redraw on a terminal.
 */
import type { ProgressEvent } from '../protocol/index.js';
import { humanSize } from './output.js';

export function progressPrinter(out: NodeJS.WriteStream): (e: ProgressEvent) => void {
  const last = new Map<string, string>();
  const tty = out.isTTY === true;
  let drawn = false;
  const clear = (): void => { if (drawn) { out.write('\r\x1b[2K'); drawn = false; } };
  return (e) => {
    if (e.type === 'build') return;
    if (e.type === 'log') { clear(); out.write(`${e.message}\n`); return; }
    if (last.get(e.id) === e.status) {
      if (tty && e.total) {
        clear();
        out.write(`${e.id}: ${e.status} ${humanSize(e.current ?? 0)}/${humanSize(e.total)}`);
        drawn = true;
      }
      return;
    }
    last.set(e.id, e.status);
    clear();
    out.write(`${e.id}: ${e.status}\n`);
  };
}
