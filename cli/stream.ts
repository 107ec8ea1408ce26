/**
 * The CLI end of sbx.stream.v1: terminal glue around the protocol's StreamClient
 * (protocol/stream-client.ts), which keeps the offsets, the unacknowledged stdin, the acks and
 * the reconnects. Here: the WebSocket (through the client's openChannel), raw mode, resize,
 * signals, the detach keys (docker's Ctrl-P Ctrl-Q, detach-keys.ts), and writing output to the terminal. The local terminal is
 * in raw mode only with a TTY session on a TTY, and is always restored.
 */
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { Sessions, StreamClient, type Size, type StreamResult, type StreamSocket } from '../protocol/index.js';
import { loadWebSocket, type Client } from './client.js';
import { DetachMatcher, parseDetachKeys } from './detach-keys.js';
import { makeRaw, readKeys } from './terminal.js';

// run and exec import this module while sbxd creates the container: ws loads meanwhile
loadWebSocket();

export interface AttachOptions {
  client: Client;
  session: string;
  tty: boolean;
  /** Forward local stdin (docker -i / attach). */
  stdin: boolean;
  in: NodeJS.ReadStream;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  /** Output offsets to start from (default 0: everything, as run/exec want; attach passes the current end). */
  from?: { stdout: number; stderr: number };
  /** Called once, when the first attachment is established (run: start the container now). */
  onAttached?: () => Promise<void>;
  /** Give up reconnecting after this long (ms). */
  reconnectFor?: number;
  /** The detach sequence typed on a TTY (detach-keys.ts; default Ctrl-P Ctrl-Q). */
  detachKeys?: Buffer;
  /** Forward SIGINT/SIGTERM/SIGHUP/SIGQUIT to a non-TTY process (docker's --sig-proxy, default true). */
  sigProxy?: boolean;
  /** Output streams shown (docker's -a); the others are read and dropped. Default both. */
  show?: { stdout: boolean; stderr: boolean };
}

/** escaped: the user typed the detach keys (docker prints "read escape sequence"). */
export interface AttachResult extends StreamResult { escaped?: boolean }

export function attachSession(o: AttachOptions): Promise<AttachResult> {
  return new Promise((resolve) => {
    const raw = o.tty && o.stdin && o.in.isTTY === true;
    const cleanups: (() => void)[] = [];
    let escaped = false;
    let restoreTerminal: (() => void) | undefined;
    const size = (): Size | undefined => (o.out.isTTY && o.out.columns ? { cols: o.out.columns, rows: o.out.rows } : undefined);

    const keys = o.detachKeys ?? parseDetachKeys('');
    // a local daemon reads and writes this terminal itself: keys and echo skip the CLI
    const tie = raw && o.out.isTTY === true && o.client.local && process.env.SBX_TERMINAL !== 'frames';
    let readStdin = (): void => undefined;
    const stream: StreamClient = new StreamClient({
      connect: () => dial(o.client, o.session, stream),
      output: (name, data, upTo) => {
        if (o.show && !o.show[name]) { stream.written(name, upTo); return; }
        const target = name === 'stderr' ? o.err : o.out;
        const rest = writeDirect(target, data);
        if (rest.length === 0) stream.written(name, upTo);
        else target.write(rest, () => stream.written(name, upTo));
      },
      size,
      attached: (tied) => {
        if (!tied) readStdin();
        o.onAttached?.().catch((e: Error) => stream.abort(e.message));
      },
      end: (r) => {
        for (const c of cleanups.splice(0)) { try { c(); } catch { /* best effort */ } }
        resolve(escaped ? { ...r, escaped } : r);
      },
    }, { client: 'sbx-cli', ...(tie ? { terminal: { detachKeys: [...keys] } } : {}), ...(o.from ? { from: o.from } : {}), ...(o.reconnectFor !== undefined ? { reconnectFor: o.reconnectFor } : {}) });

    // stdin
    if (o.stdin) {
      if (raw) cleanups.push(restoreTerminal = makeRaw(o.in));
      const matcher = new DetachMatcher(keys);
      const onKeys = (chunk: Uint8Array): void => {
        const { pass, detach } = matcher.feed(chunk);
        if (pass.length) stream.stdin(pass);
        if (detach) { escaped = true; stream.detach(); }
      };
      const onEnd = (): void => stream.stdinEnd();
      // tied or not is known once attached; until then keys wait in the terminal
      if (raw && tie) readStdin = () => { readStdin = () => undefined; cleanups.push(readKeys(o.in, onKeys, onEnd)); };
      else if (raw) cleanups.push(readKeys(o.in, onKeys, onEnd));
      else {
        const onData = (chunk: Buffer): void => stream.stdin(chunk);
        o.in.on('data', onData);
        o.in.on('end', onEnd);
        o.in.resume();
        cleanups.push(() => { o.in.off('data', onData); o.in.off('end', onEnd); o.in.pause(); });
      }
    }
    if (o.tty && o.out.isTTY) {
      let timer: NodeJS.Timeout | undefined;
      const onResize = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => { const s = size(); if (s) stream.resize(s); }, 30);
      };
      o.out.on('resize', onResize);
      cleanups.push(() => { o.out.off('resize', onResize); clearTimeout(timer); });
    }
    if (!o.tty && o.sigProxy !== false) {
      const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
      const handlers = sigs.map((s) => { const h = (): void => stream.signal(s); process.on(s, h); return [s, h] as const; });
      cleanups.push(() => { for (const [s, h] of handlers) process.off(s, h); });
    } else if (raw) {
      const restore = (): void => { try { restoreTerminal?.(); } catch { /* gone */ } };
      process.on('exit', restore);
      // SIGTERM/SIGHUP of the CLI itself (the container keeps its terminal, as with docker):
      // give the user's terminal back its modes, then leave with the signal's status.
      const sigs = ['SIGTERM', 'SIGHUP'] as const;
      const leave = (s: NodeJS.Signals): void => {
        for (const c of cleanups.splice(0)) { try { c(); } catch { /* best effort */ } }
        process.exit(128 + constants.signals[s]);
      };
      for (const s of sigs) process.on(s, leave);
      cleanups.push(() => { process.off('exit', restore); for (const s of sigs) process.off(s, leave); });
    }
    stream.start();
  });
}

/** One WebSocket to the session, its events handed to the stream client. */
function dial(client: Client, session: string, stream: StreamClient): StreamSocket {
  const ws = client.openChannel(Sessions.attach, { session });
  const socket: StreamSocket = {
    send: (data) => { if (ws.readyState === ws.OPEN) ws.send(data); },
    close: (code) => { try { ws.close(code); } catch { /* closed */ } },
  };
  ws.on('open', () => stream.opened(socket));
  ws.on('message', (data, isBinary) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    stream.message(socket, isBinary ? buf : buf.toString('utf8'));
  });
  ws.on('close', (code) => stream.closed(socket, code));
  ws.on('error', () => undefined);
  return socket;
}

/**
 * A terminal is written to with one blocking write(2), as Node itself does for a TTY, minus the
 * stream machinery (a keystroke's echo pays for every step). Returns what is left for the
 * stream: everything when it is not a terminal or has output queued, the rest after EAGAIN.
 */
function writeDirect(target: NodeJS.WriteStream, data: Uint8Array): Uint8Array {
  const fd = (target as { fd?: unknown }).fd;
  if (!target.isTTY || typeof fd !== 'number' || target.writableLength > 0) return data;
  let done = 0;
  try {
    while (done < data.length) done += writeSync(fd, data, done);
  } catch { /* EAGAIN and errors: the stream takes the rest (and reports errors as it does) */ }
  return data.subarray(done);
}

/** The status a CLI exits with for an attach result (docker's rules; 255 when the end is unknown). */
export function exitStatus(r: AttachResult, err: NodeJS.WriteStream): number {
  if (r.exit) {
    if (r.exit.error) err.write(`Error: ${r.exit.error.message}\n`);
    return r.exit.status;
  }
  if (r.detached) {
    if (r.escaped) err.write('\nread escape sequence\n');
    return 0;
  }
  err.write(`Error: ${r.lost ?? 'connection to sbxd lost'}\n`);
  return 255;
}
