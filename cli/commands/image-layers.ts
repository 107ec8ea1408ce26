import { CHANGE_LETTER, Layers, type ChangeOp, type LayerFiles } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { humanSize, shortId, table, truncate } from '../output.js';
import { checkTemplate, isJsonFormat, renderTemplate } from '../template.js';

/**
 * `sbx image layers IMAGE`: the layer explorer's summary, as dive's: per layer (top first, as
 * `sbx history`) its size, how many paths it adds, changes and deletes, and what made it;
 * `--files` lists each layer's paths as `sbx diff` does ("A /x  6B").
 */
export const command: Command = {
  name: 'image-layers',
  summary: 'Show what each layer of an image adds, changes and deletes',
  usage: 'sbx image layers [OPTIONS] IMAGE',
  options: {
    files: { type: 'boolean' },
    human: { type: 'boolean', short: 'H', default: true },
    'no-trunc': { type: 'boolean' },
    format: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx image layers" requires exactly 1 argument.');
    const format = str(values.format);
    if (format && format !== 'table' && !isJsonFormat(format)) checkTemplate(format);
    const layers = (await client.call(Layers.list, { ref: positionals[0]! })).reverse();
    const noTrunc = values['no-trunc'] === true;
    const size = (n: number): string => (values.human === false ? String(n) : humanSize(n));
    const view = layers.map((l) => summary(l, noTrunc ? l.digest : shortId(l.digest)));
    if (format && format !== 'table') {
      for (const [i, v] of view.entries()) {
        const row = values.files ? { ...v, Files: layers[i]!.changes } : v;
        stdout.write((isJsonFormat(format) ? JSON.stringify(row) : renderTemplate(format, row)) + '\n');
      }
      return;
    }
    if (!values.files) {
      const more = (v: LayerView, n: number): string => `${n}${v.Truncated ? '+' : ''}`;
      stdout.write(table(['LAYER', 'SIZE', 'ADDED', 'CHANGED', 'DELETED', 'CREATED BY'], view.map((v) => [
        v.ID, size(v.Size), more(v, v.Added), more(v, v.Changed), more(v, v.Deleted),
        noTrunc ? v.CreatedBy : truncate(v.CreatedBy.replace(/\t/g, ' '), 45),
      ])));
      return;
    }
    for (const [i, l] of layers.entries()) {
      const v = view[i]!;
      stdout.write(`${i ? '\n' : ''}${v.ID}  ${size(v.Size)}  ${v.CreatedBy}\n`);
      for (const c of l.changes) stdout.write(`${CHANGE_LETTER[c.op]} ${c.path}${c.size !== undefined ? `  ${size(c.size)}` : ''}\n`);
      if (l.truncated) stdout.write(`… (only the first ${l.changes.length} paths)\n`);
    }
  },
};

interface LayerView { ID: string; Size: number; Added: number; Changed: number; Deleted: number; CreatedBy: string; Truncated: boolean }

function summary(l: LayerFiles, id: string): LayerView {
  const count = (op: ChangeOp): number => l.changes.filter((c) => c.op === op).length;
  return {
    ID: id, Size: l.size, Added: count('add'), Changed: count('modify'), Deleted: count('delete'),
    CreatedBy: l.createdBy ?? '', Truncated: l.truncated === true,
  };
}
