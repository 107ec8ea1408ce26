/** A session's surroundings without a kernel: a scripted process and a recording sink. */
import { decodeData, parseServerControl, type ExitInfo, type ServerControl } from '../../protocol/index.js';
import type { Sink } from '../../daemon/sessions/session.js';
import type { OutputName, Process } from '../../daemon/runtime/runtime.js';

export function fakeProcess() {
  let data: ((s: OutputName, d: Buffer) => void) | undefined;
  let exit: ((e: ExitInfo) => void) | undefined;
  const stdin: Buffer[] = [];
  let paused = false;
  const p: Process = {
    pid: 1, tty: false,
    async write(d) { stdin.push(Buffer.from(d)); },
    closeStdin() {}, resize() {}, kill() {},
    pause() { paused = true; }, resume() { paused = false; },
    onData(cb) { data = cb; }, onExit(cb) { exit = cb; },
  };
  return {
    p, stdin, paused: () => paused,
    out: (s: string, stream: OutputName = 'stdout') => data!(stream, Buffer.from(s)),
    exit: (status: number) => exit!({ code: status, signal: null, status, oomKilled: false, at: new Date().toISOString() }),
  };
}

export function fakeSink() {
  const bytes: Record<number, string> = { 1: '', 2: '' };
  const controls: ServerControl[] = [];
  let closed: number | undefined;
  const sink: Sink = {
    send(frame, cb) {
      if (typeof frame === 'string') controls.push(parseServerControl(frame)!);
      else { const f = decodeData(frame); bytes[f.channel] += Buffer.from(f.data).toString(); }
      cb();
    },
    bufferedAmount: () => 0,
    close(code) { closed = code; },
  };
  return { sink, bytes, controls, closed: () => closed };
}

export const tick = () => new Promise((r) => setImmediate(r));
