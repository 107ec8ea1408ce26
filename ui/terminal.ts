/**
 * A terminal in the page: xterm.js glue around the protocol's StreamClient (the same state
 * machine the CLI drives), as cli/stream.ts is for a local terminal. Keys → stdin, the fit
 * addon's size → resize, output → xterm, acknowledged once xterm has parsed it; while the
 * socket is down the banner says it is reconnecting, and the client resumes where it was.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { Sessions, StreamClient, type StreamResult, type StreamSocket } from '../protocol/index.js';
import { openChannel } from './api.js';

export interface TerminalView {
  /** Ends the attachment (detach: the process keeps running) and removes the terminal. */
  dispose(): void;
  term: Terminal;
}

/** For tests: the open terminal's sockets (to cut them) and the newest terminal (to read its buffer). */
const live = new Set<WebSocket>();
const testHooks = globalThis as { sbxSockets?: Set<WebSocket>; sbxTerm?: Terminal; sbxDials?: number };
testHooks.sbxSockets = live;
testHooks.sbxDials = 0;

/** `start`: called once the first attachment is up (run: start the container then, as `sbx run -it`). */
export function openTerminal(el: HTMLElement, status: HTMLElement, session: string, onEnd: (r: StreamResult) => void, start?: () => Promise<void>): TerminalView {
  const term = new Terminal({ cursorBlink: true, convertEol: false, fontFamily: 'monospace', fontSize: 14, scrollback: 100000 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(el);
  testHooks.sbxTerm = term;
  fit.fit();
  const encoder = new TextEncoder();
  const say = (text: string): void => { status.textContent = text; status.hidden = text === ''; };

  const stream: StreamClient = new StreamClient({
    connect: () => dial(session, stream, say),
    output: (_name, data, upTo) => { term.write(data.slice(), () => stream.written(_name, upTo)); },
    size: () => ({ cols: term.cols, rows: term.rows }),
    attached: () => { say(''); start?.().catch((e: Error) => stream.abort(e.message)); },
    end: (r) => {
      say(r.exit ? `exited (${r.exit.status})` : r.detached ? 'detached' : `lost: ${r.lost ?? 'connection lost'}`);
      onEnd(r);
    },
  }, { client: 'sbx-web', window: 256 * 1024, reconnectFor: 5 * 60_000 });

  // Tab belongs to the shell: F6 (Shift+F6) moves the focus out to the next (previous) control, as browsers cycle panes
  term.attachCustomKeyEventHandler((e) => {
    if (e.key !== 'F6' || e.ctrlKey || e.altKey || e.metaKey) return true;
    if (e.type === 'keydown') { e.preventDefault(); focusBeside(el, e.shiftKey ? -1 : 1); }
    return false;
  });
  term.onData((s) => stream.stdin(encoder.encode(s)));
  term.onBinary((s) => stream.stdin(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff)));
  term.onResize(({ cols, rows }) => stream.resize({ cols, rows }));
  const observer = new ResizeObserver(() => { try { fit.fit(); } catch { /* hidden */ } });
  observer.observe(el);
  stream.start();
  term.focus();
  return {
    term,
    dispose() {
      observer.disconnect();
      if (!stream.ended) stream.detach();
      term.dispose();
    },
  };
}

/** Focus the first control after (dir 1) or before (dir -1) `box` in the page's tab order. */
function focusBeside(box: HTMLElement, dir: 1 | -1): void {
  const all = [...document.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])')]
    .filter((e) => !box.contains(e) && e.offsetParent !== null);
  const after = (e: HTMLElement): boolean => (box.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  const next = dir === 1 ? all.find(after) ?? all[0] : [...all].reverse().find((e) => !after(e)) ?? all.at(-1);
  next?.focus();
}

/** One connection: a ticket, then the WebSocket; its events go to the stream client. */
function dial(session: string, stream: StreamClient, say: (t: string) => void): StreamSocket {
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
    if (closing !== undefined) w.close(closing);
    w.onopen = () => { say(''); stream.opened(socket); };
    w.onmessage = (e: MessageEvent) => stream.message(socket, typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
    w.onclose = (e: CloseEvent) => {
      live.delete(w);
      if (closing === undefined && e.code !== 1000 && !stream.ended) say('reconnecting…');
      stream.closed(socket, e.code);
    };
  }, () => { say('reconnecting…'); stream.closed(socket, 1006); });
  return socket;
}
