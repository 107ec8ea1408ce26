/**
 * A terminal in the page: xterm.js glue around the protocol's StreamClient (the same state
 * machine the CLI drives), as cli/stream.ts is for a local terminal. Keys → stdin, the fit
 * addon's size → resize, output → xterm, acknowledged once xterm has parsed it; while the
 * socket is down its status says it is reconnecting, and the client resumes where it was.
 * Each terminal is its own session with its own client: a cut of one never touches another.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { Sessions, StreamClient, type StreamResult, type StreamSocket } from '../protocol/index.js';
import { openChannel } from './api.js';

export interface TerminalView {
  /** Ends the attachment (detach: the process keeps running) and removes the terminal. */
  dispose(): void;
  /** Give it the keyboard. */
  focus(): void;
  /** Fit its element now (just shown: its PTY gets the size before any key typed into it). */
  fit(): void;
  term: Terminal;
  /** This terminal's open WebSockets (one, or none while it reconnects) and how many it dialled. */
  sockets: Set<WebSocket>;
  readonly dials: number;
}

export interface TerminalHost {
  /** Its status in words: '' (attached), 'reconnecting…', 'exited (0)', 'detached', 'lost: …'. */
  status(text: string): void;
  end(r: StreamResult): void;
  /** Called once the first attachment is up (run: start the container then, as `sbx run -it`). */
  start?(): Promise<void>;
  /** A key the page handles instead of the shell (F6 and the terminal shortcuts): true if taken. */
  key?(e: KeyboardEvent): boolean;
}

/** For tests: every open socket of the page (to cut them all) and how many were dialled. */
const live = new Set<WebSocket>();
const testHooks = globalThis as { sbxSockets?: Set<WebSocket>; sbxDials?: number };
testHooks.sbxSockets = live;
testHooks.sbxDials = 0;

export function openTerminal(el: HTMLElement, session: string, host: TerminalHost): TerminalView {
  // a steady cursor (as VS Code's terminal by default): xterm's DOM renderer blinks it with a CSS
  // animation that makes the browser run a main-thread frame every vsync, which in chromium put
  // each echo's message and its render one frame later (bench ui.keystroke: 27 ms → 9–15 ms here)
  const term = new Terminal({ cursorBlink: false, convertEol: false, fontFamily: 'monospace', fontSize: 14, scrollback: 100000 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(el);
  fit.fit();
  const encoder = new TextEncoder();
  const mine = new Set<WebSocket>();
  let dials = 0;

  const stream: StreamClient = new StreamClient({
    connect: () => { dials++; return dial(session, stream, mine, host.status); },
    output: (_name, data, upTo) => { term.write(data.slice(), () => stream.written(_name, upTo)); },
    size: () => ({ cols: term.cols, rows: term.rows }),
    attached: () => { host.status(''); host.start?.().catch((e: Error) => stream.abort(e.message)); },
    end: (r) => {
      host.status(r.exit ? `exited (${r.exit.status})` : r.detached ? 'detached' : `lost: ${r.lost ?? 'connection lost'}`);
      host.end(r);
    },
  }, { client: 'sbx-web', window: 256 * 1024, reconnectFor: 5 * 60_000 });

  // Tab belongs to the shell; the page's own keys (F6 to leave, the switch shortcuts) do not reach it
  term.attachCustomKeyEventHandler((e) => {
    if (!host.key?.(e)) return true;
    e.preventDefault();
    return false;
  });
  term.onData((s) => stream.stdin(encoder.encode(s)));
  term.onBinary((s) => stream.stdin(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff)));
  term.onResize(({ cols, rows }) => stream.resize({ cols, rows }));
  // a hidden terminal has no size: it keeps its own until shown again, then fits (and resizes its PTY)
  const refit = (): void => { if (el.offsetParent !== null) try { fit.fit(); } catch { /* detached */ } };
  const observer = new ResizeObserver(refit);
  observer.observe(el);
  stream.start();
  return {
    term,
    sockets: mine,
    get dials() { return dials; },
    focus: () => term.focus(),
    fit: refit,
    dispose() {
      observer.disconnect();
      if (!stream.ended) stream.detach();
      term.dispose();
    },
  };
}

/** One connection: a ticket, then the WebSocket; its events go to the stream client. */
function dial(session: string, stream: StreamClient, mine: Set<WebSocket>, say: (t: string) => void): StreamSocket {
  let ws: WebSocket | undefined;
  let closing: number | undefined;
  testHooks.sbxDials = (testHooks.sbxDials ?? 0) + 1;
  const socket: StreamSocket = {
    send: (d) => { if (ws?.readyState === WebSocket.OPEN) ws.send(d); },
    close: (code) => { closing = code ?? 1000; try { ws?.close(closing); } catch { /* closed */ } },
  };
  openChannel(Sessions.attach, { session }).then((w) => {
    ws = w;
    live.add(w);
    mine.add(w);
    if (closing !== undefined) w.close(closing);
    w.onopen = () => { say(''); stream.opened(socket); };
    w.onmessage = (e: MessageEvent) => stream.message(socket, typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
    w.onclose = (e: CloseEvent) => {
      live.delete(w);
      mine.delete(w);
      if (closing === undefined && e.code !== 1000 && !stream.ended) say('reconnecting…');
      stream.closed(socket, e.code);
    };
  }, () => { say('reconnecting…'); stream.closed(socket, 1006); });
  return socket;
}
