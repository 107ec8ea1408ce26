/**
 * `--format` as docker's CLI reads it: `json` (one object per line), `table` (the command's own
 * table), `table TEMPLATE` (a header row, then one row per item, aligned as docker's tabwriter
 * does), or a Go text/template run once per item (cli/gotemplate/: fields, pipelines, if/range/
 * with, variables, Go's builtins and docker's json/join/split/lower/upper/title/truncate/pad).
 * A template that does not parse is refused before anything is printed.
 */
import { execute, goStruct } from './gotemplate/exec.js';
export { goStruct } from './gotemplate/exec.js';
import { FUNC_NAMES } from './gotemplate/funcs.js';
import { parseTemplate, type Node } from './gotemplate/parse.js';

const cache = new Map<string, Node[]>();

function compile(tpl: string): Node[] {
  let nodes = cache.get(tpl);
  if (!nodes) { nodes = parseTemplate(unescape(tpl), FUNC_NAMES); cache.set(tpl, nodes); }
  return nodes;
}

/** docker expands the two-character escapes `\t` and `\n` a shell leaves in a --format value. */
function unescape(tpl: string): string {
  return tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** Parse only: throws invalid_argument ("template parsing error: …") for a bad template. */
export function checkTemplate(tpl: string): void { compile(tpl); }

/** `type`: docker's Go type for `value` (a struct: a field it lacks is an error, not "<no value>"). */
export function renderTemplate(tpl: string, value: unknown, type?: string): string {
  return execute(compile(tpl), type && value && typeof value === 'object' ? goStruct({ ...value }, type) : value);
}

/** Is `--format` asking for JSON (docker accepts "json" for one object per line)? */
export function isJsonFormat(f: string | undefined): boolean {
  return f === 'json' || f === '{{json .}}';
}

export interface ListFormat {
  /** Field name → its column title in a `table TEMPLATE` header ("ID" → "CONTAINER ID"). */
  headers: Record<string, string>;
  /** The command's own table, for no --format or `table`. */
  table: () => string;
  /** docker's formatter type for the rows ("*formatter.ContainerContext"): a field they lack is an error, as in docker. */
  type?: string;
  /** docker's methods with arguments on a row (ps's `{{.Label "app"}}`). */
  methods?: (row: never) => Record<string, (...args: unknown[]) => unknown>;
}

/** docker's `{{.Label "KEY"}}` on a row whose Labels is its "k=v,k2=v2" string: the value, or "". */
export function labelMethod(labels: string): Record<string, (...args: unknown[]) => unknown> {
  return {
    Label: (key: unknown) => {
      for (const kv of labels ? labels.split(',') : []) {
        const eq = kv.indexOf('=');
        if ((eq < 0 ? kv : kv.slice(0, eq)) === String(key)) return eq < 0 ? '' : kv.slice(eq + 1);
      }
      return '';
    },
  };
}

/** Refuse a bad --format before any call to the daemon. */
export function checkListFormat(format: string | undefined): void {
  if (format === undefined || format === '' || format === 'table' || isJsonFormat(format)) return;
  checkTemplate(format.startsWith('table ') ? format.slice(6) : format);
}

/** Render `rows` under `format` (undefined: the command's own table). */
export function formatList(format: string | undefined, rows: readonly unknown[], how: ListFormat): string {
  if (format === undefined || format === '' || format === 'table') return how.table();
  if (isJsonFormat(format)) return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (how.type) rows = rows.map((r) => goStruct({ ...(r as object) }, how.type!, how.methods?.(r as never) ?? {}));
  if (format.startsWith('table ')) {
    const tpl = format.slice(6);
    let header: string;
    try { header = renderTemplate(tpl, new Proxy({}, { has: () => true, get: (_t, k) => (typeof k === 'string' ? how.headers[k] ?? k.toUpperCase() : undefined), getOwnPropertyDescriptor: () => ({ configurable: true, enumerable: true }) })); } catch { header = ''; }
    return tabwriter([header, ...rows.map((r) => renderTemplate(tpl, r))].join('\n')) + '\n';
  }
  return rows.map((r) => `${renderTemplate(format, r)}\n`).join('');
}

/** docker's tabwriter (minwidth 10, padding 3): cells end at '\t'; text after a line's last tab is not aligned. */
export function tabwriter(text: string): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const cells of lines) {
    for (let i = 0; i < cells.length - 1; i++) widths[i] = Math.max(widths[i] ?? 10, [...cells[i]!].length + 3);
  }
  return lines.map((cells) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]! - ([...c].length - c.length)) : c)).join('').trimEnd()).join('\n');
}
