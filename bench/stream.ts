/**
 * A session's terminal over sbx.stream.v1 (protocol/stream.ts), as a platform's web terminal
 * would hold it: hello → attached, stdin as channel-0 frames, output acknowledged as it arrives
 * so the server's credit window never stalls the stream.
 */
import WebSocket from 'ws';
import type { Client } from '../cli/client.js';
import {
  Sessions, STREAM_SUBPROTOCOL, decodeData, encodeControl, encodeData, parseServerControl, type ExitInfo,
} from '../protocol/index.js';
import { Terminal, settle } from './pty.js';

const WINDOW = 4 * 1024 * 1024;

export class StreamTerminal extends Terminal {
  private ws!: WebSocket;
  private offsets = { stdout: 0, stderr: 0 };
  private unacked = 0;
  private readonly decoder = new TextDecoder();
  exit?: ExitInfo;
  readonly exited: Promise<void>;
  private onExit!: () => void;

  private constructor(what: string) {
    super(what);
    this.exited = new Promise((r) => { this.onExit = r; });
  }

  /** Attach to `session`; resolves once the server said `attached`. */
  static async attach(client: Client, session: string): Promise<StreamTerminal> {
    const t = new StreamTerminal(`stream ${session}`);
    const { url, options } = client.channelTarget(Sessions.attach, { session });
    const ws = new WebSocket(url, STREAM_SUBPROTOCOL, options);
    t.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', (code, reason) => reject(new Error(`attach ${session}: closed ${code} ${reason}`)));
      ws.once('open', () => ws.send(encodeControl({ t: 'hello', v: 1, client: 'sbx-bench', size: { cols: 120, rows: 30 }, window: WINDOW })));
      ws.on('message', (data, isBinary) => {
        const buf = data as Buffer;
        if (isBinary) {
          const { channel, data: bytes } = decodeData(buf);
          const stream = channel === 2 ? 'stderr' : 'stdout';
          this.count(t, stream, bytes.length);
          t.feed(t.decoder.decode(bytes, { stream: true }));
          return;
        }
        const msg = parseServerControl(buf.toString('utf8'));
        if (!msg) return;
        if (msg.t === 'attached') {
          t.offsets = { stdout: msg.replay.stdout.from, stderr: msg.replay.stderr.from };
          ws.removeAllListeners('error');
          ws.removeAllListeners('close');
          ws.on('error', () => undefined);
          ws.on('close', () => { t.ended('closed'); t.onExit(); });
          resolve();
        } else if (msg.t === 'exit') {
          t.exit = msg;
        } else if (msg.t === 'error' && msg.fatal) {
          reject(new Error(`attach ${session}: ${msg.message}`));
        }
      });
    });
    return t;
  }

  private static count(t: StreamTerminal, stream: 'stdout' | 'stderr', n: number): void {
    t.offsets[stream] += n;
    t.unacked += n;
    if (t.unacked >= WINDOW / 4) {
      t.unacked = 0;
      t.ws.send(encodeControl({ t: 'ack', stdout: t.offsets.stdout, stderr: t.offsets.stderr }));
    }
  }

  write(s: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeData(0, Buffer.from(s)));
  }

  async close(): Promise<void> {
    if (this.done) return;
    await settle();
    this.write('\x15exit\r');
    const t = setTimeout(() => this.ws.terminate(), 5000);
    await this.exited;
    clearTimeout(t);
  }
}
