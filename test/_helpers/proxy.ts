/**
 * A proxy in front of sbxd's unix socket that passes HTTP through and cuts WebSocket connections
 * after `after` bytes from the daemon, as a flaky network would. It listens on a unix socket
 * (`path`) or, without one, on a loopback TCP port (`url` is then http://127.0.0.1:PORT).
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface CuttingProxy {
  /** http://127.0.0.1:PORT when listening on TCP, else undefined. */
  url?: string;
  /** How many connections it has cut so far. */
  cut(): number;
  /** How many WebSocket connections it has carried. */
  upgrades(): number;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

export interface CuttingProxyOptions {
  /** sbxd's unix socket. */
  target: string;
  /** Listen on this unix socket; default: a loopback TCP port. */
  path?: string;
  /** Cut a WebSocket connection once more than this many bytes came from the daemon on it. */
  after: number;
  /** Cut at most this many connections (default: every one); later ones pass untouched. */
  cuts?: number;
}

export async function cuttingProxy(o: CuttingProxyOptions): Promise<CuttingProxy> {
  let done = 0;
  let upgrades = 0;
  const open = new Set<Socket>();
  const server = createServer((client: Socket) => {
    const up = connect(o.target);
    open.add(client).add(up);
    let ws = false;
    let down = 0;
    let cutting = false;
    client.once('data', (first: Buffer) => {
      ws = /upgrade: websocket/i.test(first.toString('latin1'));
      if (ws) upgrades++;
      up.write(first);
      client.pipe(up);
    });
    up.on('data', (d: Buffer) => {
      if (cutting) return;
      if (!ws || done >= (o.cuts ?? Infinity) || down + d.length <= o.after) {
        down += d.length;
        client.write(d);
        return;
      }
      // pass exactly `after` bytes, then cut both sides: a frame is left half-delivered
      cutting = true;
      done++;
      client.end(d.subarray(0, Math.max(0, o.after - down)));
      up.destroy();
    });
    const drop = (): void => {
      up.destroy();
      if (!cutting) client.destroy(); // a cut client is ended: what was written still arrives
      open.delete(up);
    };
    up.on('error', drop);
    up.on('close', drop);
    client.on('error', () => { client.destroy(); up.destroy(); });
    client.on('close', () => { up.destroy(); open.delete(client); });
  });
  await new Promise<void>((r) => (o.path ? server.listen(o.path, r) : server.listen(0, '127.0.0.1', r)));
  const port = o.path ? undefined : (server.address() as AddressInfo).port;
  return {
    ...(port ? { url: `http://127.0.0.1:${port}` } : {}),
    cut: () => done,
    upgrades: () => upgrades,
    close: () => { for (const s of open) s.destroy(); return new Promise((r) => server.close(() => r())); },
  };
}

/** A proxy whose first WebSocket connection the test stalls, then cuts; later ones pass untouched. */
export interface StallingProxy {
  /** Stop reading what the client sends on the first connection (it queues up in the client). */
  stall(): void;
  /**
   * End the client's side of the first connection (FIN, no close frame) and drop the daemon's;
   * what the client still sends is never read, as with a peer that has gone away.
   */
  cut(): void;
  /** How many WebSocket connections it has carried. */
  upgrades(): number;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

export async function stallingProxy(target: string, path: string): Promise<StallingProxy> {
  let upgrades = 0;
  let first: { client: Socket; up: Socket } | undefined;
  const open = new Set<Socket>();
  const server = createServer((client: Socket) => {
    const up = connect(target);
    open.add(client).add(up);
    client.once('data', (d: Buffer) => {
      if (/upgrade: websocket/i.test(d.toString('latin1')) && upgrades++ === 0) first = { client, up };
      up.write(d);
      client.pipe(up);
    });
    up.pipe(client, { end: false }); // the first connection's client end is the test's to end
    up.on('close', () => { if (first?.client !== client) client.end(); });
    up.on('error', () => { if (first?.client !== client) client.destroy(); });
    client.on('close', () => up.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    stall: () => { first?.client.unpipe(); first?.client.pause(); },
    cut: () => { if (first) { first.up.unpipe(first.client); first.client.end(); first.up.destroy(); } },
    upgrades: () => upgrades,
    close: () => { for (const s of open) s.destroy(); return new Promise((r) => server.close(() => r())); },
  };
}
