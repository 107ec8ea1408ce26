import { CHANGE_LETTER, Changes, SbxError, type ChangeFeedMessage, type ChangeRecord } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

function line(r: ChangeRecord, json: boolean): string {
  return json ? JSON.stringify(r) : `${r.seq}\t${r.ts}\t${CHANGE_LETTER[r.op]}\t${r.path}`;
}

/**
 * `sbx watch CONTAINER`: a container's change journal (also `sbx events CONTAINER`, which keeps
 * this meaning for one positional; `sbx events` without one is docker's daemon event stream).
 */
export const command: Command = {
  name: 'watch',
  summary: "Show a container's change journal: every file it added (A), changed (C) or deleted (D), in order (also: sbx changes, sbx events CONTAINER)",
  usage: 'sbx watch [OPTIONS] CONTAINER',
  options: {
    since: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx watch" requires exactly 1 argument.');
    const id = positionals[0]!;
    const sinceText = str(values.since);
    const since = sinceText === undefined ? 0 : Number(sinceText);
    if (!Number.isInteger(since) || since < 0) throw new UsageError(`--since ${sinceText}: expected a sequence number`);
    const json = values.json === true;
    if (!values.follow) {
      const { records } = await client.call(Changes.journal, { id, since });
      for (const r of records) stdout.write(line(r, json) + '\n');
      return;
    }
    const ws = client.openChannel(Changes.feed, { id, since });
    await new Promise<void>((resolve, reject) => {
      const stop = (): void => { ws.close(1000); resolve(); };
      process.once('SIGINT', stop);
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as ChangeFeedMessage;
        if (m.type === 'record') stdout.write(line(m.record, json) + '\n');
        else if (m.type === 'error') reject(SbxError.fromBody(m.error));
      });
      ws.on('error', (e) => reject(new SbxError('unavailable', `follow the changes of ${id}: ${e.message}`)));
      ws.on('close', () => { process.off('SIGINT', stop); resolve(); });
    });
  },
};
