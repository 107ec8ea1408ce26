/**
 * The local terminal in docker's raw mode (moby/term MakeRaw, i.e. cfmakeraw): no echo, no line
 * editing, no signals from keys, and no output processing, so the container terminal's own
 * "\r\n" is not turned into "\r\r\n" and a bare "\n" stays a line feed (vi, less).
 *
 * Node's and Bun's setRawMode(true) is libuv's UV_TTY_MODE_RAW, which keeps OPOST. Bun's own
 * tty binding also takes libuv's UV_TTY_MODE_IO (2), which is cfmakeraw: one tcsetattr, no
 * process. Under Node (the floor reference) `stty -opost` finishes the job, as before.
 */
import { spawnSync } from 'node:child_process';
import { ON_BUN } from './runtime.js';

/** UV_TTY_MODE_NORMAL and UV_TTY_MODE_IO, as Bun's tty binding numbers them. */
const MODE_NORMAL = 0;
const MODE_IO = 2;

interface TtyHandle { setRawMode(mode: number | boolean): number | undefined }
interface TtyWrap { TTY: new (fd: number, ctx: object) => TtyHandle }

/** Bun's tty handle for `fd` when it has one that takes a mode number (else undefined). */
function bunTty(fd: number): TtyHandle | undefined {
  if (!ON_BUN) return undefined;
  try {
    const wrap = (process as unknown as { binding(name: string): TtyWrap }).binding('tty_wrap');
    return new wrap.TTY(fd, {});
  } catch { return undefined; }
}

/**
 * Make `input` (a TTY) raw with output processing off; returns the restore, which gives the
 * terminal back exactly the modes it had (safe to call more than once).
 */
export function makeRaw(input: NodeJS.ReadStream): () => void {
  const fd = (input as { fd?: unknown }).fd;
  const tty = typeof fd === 'number' ? bunTty(fd) : undefined;
  let restored = false;
  if (tty && !tty.setRawMode(MODE_IO)) {
    return () => { if (!restored) { restored = true; tty.setRawMode(MODE_NORMAL); } };
  }
  input.setRawMode(true);
  const opost = (on: boolean): void => { spawnSync('stty', [on ? 'opost' : '-opost'], { stdio: [input, 'ignore', 'ignore'] }); };
  opost(false);
  return () => {
    if (restored) return;
    restored = true;
    try { input.setRawMode(false); } catch { /* gone */ }
    opost(true);
  };
}

declare const Bun: { stdin: { stream(): ReadableStream<Uint8Array> } } | undefined;

/**
 * Read keystrokes from the terminal `input` until the returned stop() (`onEnd` at its end of
 * file). Under Bun, fd 0 is read by Bun's native reader (Bun.stdin.stream()) rather than
 * process.stdin's Node-compatible stream: measured ~15 µs less per keystroke here, on the path of
 * every echo. Stopping cancels the reader, which leaves fd 0 open and in blocking mode.
 */
export function readKeys(input: NodeJS.ReadStream, onData: (chunk: Uint8Array) => void, onEnd: () => void): () => void {
  if (typeof Bun !== 'undefined' && (input as { fd?: unknown }).fd === 0) {
    const reader = Bun.stdin.stream().getReader();
    let stopped = false;
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (stopped) return;
        if (done) { onEnd(); return; }
        if (value.length) onData(value);
      }
    })().catch(() => { if (!stopped) onEnd(); });
    return () => { stopped = true; void reader.cancel().catch(() => undefined); };
  }
  input.on('data', onData);
  input.on('end', onEnd);
  input.resume();
  return () => { input.off('data', onData); input.off('end', onEnd); input.pause(); };
}
