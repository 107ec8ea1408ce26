import { Events, formatEventLine, type EventMessage } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { checkTemplate, isJsonFormat, renderTemplate } from '../template.js';
import { timeFlag } from './logs.js';
import { command as watch } from './watch.js';

/** The fields a Go template sees: docker's events.Message by its Go names. */
function templateView(e: EventMessage): Record<string, unknown> {
  return { Status: e.status ?? '', ID: e.id ?? '', From: e.from ?? '', Type: e.Type, Action: e.Action, Actor: e.Actor, Scope: e.scope, Time: e.time, TimeNano: e.timeNano };
}

/**
 * `sbx events`: docker's daemon event stream. With one positional (a container) it is that
 * container's change journal instead (`sbx watch`: --since SEQ, --follow, --json), as sbx had it
 * before; `-f NAME` (a value without '=') is read as the journal's follow of NAME.
 */
export const command: Command = {
  name: 'events',
  summary: 'Get real time events from the daemon (with one CONTAINER argument: its change journal, as sbx watch)',
  usage: 'sbx events [OPTIONS]\n       sbx events [--since SEQ] [--follow] [--json] CONTAINER',
  options: {
    filter: { type: 'string', short: 'f', multiple: true },
    format: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    follow: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args, ctx) {
    const { values, positionals } = args;
    const filters = strs(values.filter);
    // the change journal: `events CONTAINER ...`, or the old `events -f CONTAINER` (a filter always has '=')
    if (positionals.length > 0 || (filters.length === 1 && !filters[0]!.includes('='))) {
      const follow = values.follow === true || filters.length === 1;
      if (positionals.length === 0) positionals.push(filters[0]!);
      return watch.run({ values: { since: values.since, follow, json: values.json }, positionals }, ctx);
    }
    if (values.follow || values.json) throw new UsageError(`unknown flag: --${values.follow ? 'follow' : 'json'} (only with a CONTAINER argument, for its change journal)`);
    for (const f of filters) if (!f.includes('=')) throw new UsageError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const format = str(values.format);
    if (format && !isJsonFormat(format)) checkTemplate(format);
    const since = timeFlag('since', str(values.since));
    const until = timeFlag('until', str(values.until));
    const res = await ctx.client.download(Events.stream, { ...(since ? { since } : {}), ...(until ? { until } : {}), ...(filters.length ? { filters } : {}) });
    let pending = '';
    for await (const chunk of res as AsyncIterable<Buffer>) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) {
        if (!l) continue;
        const e = JSON.parse(l) as EventMessage;
        ctx.stdout.write((isJsonFormat(format) ? l : format ? renderTemplate(format, templateView(e), 'events.Message') : formatEventLine(e)) + '\n');
      }
    }
  },
};
