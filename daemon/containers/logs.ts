/** `sbx logs`: a container's log file as records (protocol encodeLogRecord), then, with follow, its live output. */
import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ContainerManager } from './manager.js';
import { logPath, readLog } from './records.js';

/** The last `tail` records (-1: all); follow streams until the container stops. */
export function containerLogs(m: ContainerManager, ref: string, opts: { follow?: boolean; tail?: number }): Readable {
  const c = m.get(ref);
  const path = logPath(c.dir);
  const out = new Readable({ read() { /* pushed */ } });
  const tail = opts.tail ?? -1;
  const size = c.log ? c.log.size() : (existsSync(path) ? Number(readFileSync(path).length) : 0);
  const live: Uint8Array[] = [];
  let replayed = false;
  const follow = opts.follow && c.state.status === 'running' && c.log;
  // records written while the file is read are held, then pushed after it: none lost, none twice
  const unsubscribe = follow ? c.log!.subscribe((rec) => { if (replayed) out.push(rec); else live.push(rec); }) : undefined;
  void readLog(path, size, tail).then((buf) => {
    if (buf.length) out.push(buf);
    for (const r of live.splice(0)) out.push(r);
    replayed = true;
    if (!follow) { out.push(null); return; }
    void c.session!.waitExit().then(() => setImmediate(() => { unsubscribe?.(); out.push(null); }));
  }, (e) => out.destroy(e));
  out.on('close', () => unsubscribe?.());
  return out;
}
