/**
 * The part of Go's text/template that `--format` users reach for: `{{.Field.Sub}}`,
 * `{{json .Field}}`, `{{json .}}`, `{{.}}`, and `\t` / `\n` escapes. Values print as Go prints
 * them (`[a b]` for lists, `map[k:v]` for maps, `<no value>` for missing fields). Anything else
 * (`{{range}}`, `{{if}}`, functions) is refused, not printed literally.
 */
import { SbxError } from '../protocol/index.js';

const FIELD = /^\{\{\s*(json\s+)?(\.[A-Za-z0-9_.]*)\s*\}\}$/;

/**
 * Refuse what this subset does not do (`{{range}}`, `{{if}}`, functions…) before anything is
 * printed, rather than print the action literally. @throws invalid_argument
 */
export function checkTemplate(tpl: string): void {
  for (const [action] of tpl.matchAll(/\{\{.*?\}\}/gs)) {
    if (FIELD.test(action)) continue;
    const word = /^\{\{-?\s*([^\s}]*)/.exec(action)?.[1] ?? '';
    const shown = /^[a-z]+$/.test(word) ? `{{${word}}}` : action;
    throw new SbxError('invalid_argument', `--format: ${shown} is not supported; use {{.Field}} or {{json .}}`);
  }
}

export function renderTemplate(tpl: string, value: unknown): string {
  checkTemplate(tpl);
  const text = tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return text.replace(/\{\{\s*(json\s+)?(\.[A-Za-z0-9_.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
    const v = lookup(value, path);
    if (json) return JSON.stringify(v ?? null);
    return goString(v);
  });
}

function lookup(value: unknown, path: string): unknown {
  if (path === '.') return value;
  let cur: unknown = value;
  for (const key of path.slice(1).split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function goString(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.keys(v as object).sort().map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  return String(v);
}

/** Is `--format` asking for JSON (docker accepts "json" for one object per line)? */
export function isJsonFormat(f: string | undefined): boolean {
  return f === 'json' || f === '{{json .}}';
}
