/**
 * The daemon's side of the terminal relay (native/relay.c): one native thread reads and writes
 * every container terminal (pty master); this module turns its event stream into callbacks per
 * channel and its commands into methods. A channel may be tied to a local client's own terminal
 * (client-terminal.ts): keys and echo then never pass through JavaScript.
 *
 * Events arrive in the order the thread made them; per channel: data… [tied, data…] end. See
 * relay.c for what each one promises.
 */
import { Socket } from 'node:net';
import type { ConsoleAddon } from './pty.js';

const EV_DATA = 1;
const EV_END = 2;
const EV_TIED = 3;
const EV_ESCAPED = 4;
const EV_GONE = 5;
const EV_DRAINED = 6;
const C_OPEN = 1;
const C_MASTER = 2;
const C_WRITE = 3;
const C_INJECT = 4;
const C_PAUSE = 5;
const C_RESUME = 6;
const C_TIE = 7;
const C_RELEASE = 8;
const C_UNTIE = 9;
const C_CLOSE = 10;
const HEADER = 12;

/** What a channel hears from the thread. */
export interface ChannelEvents {
  /** Output, in order; while tied, already on the client's terminal. */
  data(b: Buffer): void;
  /** The master reported EIO: every slave closed, all output reported. */
  end(): void;
  /** The tie took effect: return what the terminal must show before the live output (the replay). */
  tied(): Buffer;
  /** The tie ended on its own: the user typed the detach keys, or the terminal hung up. */
  untied(why: 'escaped' | 'gone'): void;
  /** Input queued for the master was all written. */
  drained(): void;
}

export class Relay {
  private readonly channels = new Map<number, ChannelEvents>();
  private next = 1;
  private pending: Buffer[] = [];
  private pendingLen = 0;

  constructor(private readonly addon: ConsoleAddon) {
    const sock = new Socket({ fd: addon.relayStart(), readable: true, writable: false });
    sock.on('data', (d: Buffer) => this.read(d));
    sock.unref();
  }

  /** A new channel; its master comes later (master()). */
  open(events: ChannelEvents): number {
    const id = this.next++;
    this.channels.set(id, events);
    this.addon.relay(C_OPEN, id, -1, -1);
    return id;
  }

  /** The pty master: the thread owns it from here on (the daemon may still ioctl it until close()). */
  master(id: number, fd: number): void { this.addon.relay(C_MASTER, id, fd, -1); }
  write(id: number, b: Uint8Array): void { this.addon.relay(C_WRITE, id, -1, -1, b); }
  /** Output that did not come from the master (the supervisor's own messages), in order with it. */
  inject(id: number, b: Uint8Array): void { this.addon.relay(C_INJECT, id, -1, -1, b); }
  pause(id: number): void { this.addon.relay(C_PAUSE, id, -1, -1); }
  resume(id: number): void { this.addon.relay(C_RESUME, id, -1, -1); }
  /** Tie a client's terminal (fds the thread now owns and closes) with its detach keys; `client`: the client's /proc/PID/stat. */
  tie(id: number, input: number, output: number, keys: Uint8Array, client: number): void { this.addon.relay(C_TIE, id, input, output, keys, client); }
  untie(id: number): void { this.addon.relay(C_UNTIE, id, -1, -1); }
  /** Close the master and forget the channel (no event comes after). */
  close(id: number): void {
    this.channels.delete(id);
    this.addon.relay(C_CLOSE, id, -1, -1);
  }

  private read(d: Buffer): void {
    this.pending.push(d);
    this.pendingLen += d.length;
    let buf = this.pending.length === 1 ? d : Buffer.concat(this.pending, this.pendingLen);
    let at = 0;
    while (buf.length - at >= HEADER) {
      const len = buf.readUInt32LE(at + 8);
      if (buf.length - at < HEADER + len) break;
      const id = buf.readUInt32LE(at);
      const kind = buf.readUInt32LE(at + 4);
      // a copy: the chunk is reused by nobody, but the ring keeps what it is given
      this.dispatch(id, kind, buf.subarray(at + HEADER, at + HEADER + len));
      at += HEADER + len;
    }
    buf = buf.subarray(at);
    this.pending = buf.length ? [buf] : [];
    this.pendingLen = buf.length;
  }

  private dispatch(id: number, kind: number, body: Buffer): void {
    const ch = this.channels.get(id);
    if (!ch) return;
    switch (kind) {
      case EV_DATA: ch.data(body); break;
      case EV_END: ch.end(); break;
      case EV_TIED: this.addon.relay(C_RELEASE, id, -1, -1, ch.tied()); break;
      case EV_ESCAPED: ch.untied('escaped'); break;
      case EV_GONE: ch.untied('gone'); break;
      case EV_DRAINED: ch.drained(); break;
      default:
    }
  }
}
