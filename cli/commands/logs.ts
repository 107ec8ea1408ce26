import { Containers, parseTimeArg } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

/** --since/--until (RFC3339, unix time, or a duration like 10m) → docker's API form; a bad one is a flag error. */
export function timeFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  try { return parseTimeArg(value); } catch (e) { throw new UsageError(`invalid argument "${value}" for "--${name}" flag: ${(e as Error).message}`); }
}

export const command: Command = {
  name: 'logs',
  summary: 'Fetch the logs of a container',
  usage: 'sbx logs [OPTIONS] CONTAINER',
  options: {
    follow: { type: 'boolean', short: 'f' },
    tail: { type: 'string', short: 'n' },
    timestamps: { type: 'boolean', short: 't' },
    since: { type: 'string' },
    until: { type: 'string' },
    details: { type: 'boolean' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    const [id] = positionals;
    if (!id || positionals.length > 1) throw new UsageError('"sbx logs" requires exactly 1 argument.');
    const t = str(values.tail);
    let tail: number | undefined;
    if (t !== undefined && t !== 'all') {
      if (!/^\d+$/.test(t)) throw new UsageError(`invalid argument "${t}" for "-n, --tail" flag`);
      tail = Number(t);
    }
    const since = timeFlag('since', str(values.since));
    const until = timeFlag('until', str(values.until));
    const res = await client.download(Containers.logs, {
      id, follow: !!values.follow, ...(tail !== undefined ? { tail } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}),
      ...(values.timestamps ? { timestamps: true } : {}), ...(values.details ? { details: true } : {}),
    });
    let buf: Buffer = Buffer.alloc(0);
    for await (const chunk of res as AsyncIterable<Buffer>) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let off = 0;
      while (off + 5 <= buf.length) {
        const len = buf.readUInt32BE(off + 1);
        if (off + 5 + len > buf.length) break;
        const data = buf.subarray(off + 5, off + 5 + len);
        if (buf[off] === 2) stderr.write(data); else stdout.write(data);
        off += 5 + len;
      }
      buf = buf.subarray(off);
    }
  },
};
