import { Images, familiarName, parseReference, type ImageSummary } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { humanSize, shortId, table, timeAgo } from '../output.js';
import { isJsonFormat, renderTemplate } from '../template.js';

interface Row { Repository: string; Tag: string; ID: string; Digest: string; CreatedSince: string; CreatedAt: string; Size: string; VirtualSize: string; Containers: string; SharedSize: string; UniqueSize: string }

function rows(images: ImageSummary[], noTrunc: boolean): Row[] {
  const out: Row[] = [];
  for (const img of images) {
    const base = {
      ID: noTrunc ? img.id : shortId(img.id), Digest: img.digest,
      CreatedSince: timeAgo(img.created), CreatedAt: goTime(img.created),
      Size: humanSize(img.size), VirtualSize: humanSize(img.size), Containers: 'N/A', SharedSize: 'N/A', UniqueSize: 'N/A',
    };
    if (img.repoTags.length === 0) out.push({ Repository: '<none>', Tag: '<none>', ...base });
    for (const t of img.repoTags) {
      const i = t.lastIndexOf(':');
      out.push({ Repository: t.slice(0, i), Tag: t.slice(i + 1), ...base });
    }
  }
  return out;
}

/** docker's CreatedAt: "2024-01-02 15:04:05 +0000 UTC". */
function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

export const command: Command = {
  name: 'images',
  summary: 'List images',
  usage: 'sbx images [OPTIONS] [REPOSITORY[:TAG]]',
  options: {
    all: { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
    digests: { type: 'boolean' },
    'no-trunc': { type: 'boolean' },
    format: { type: 'string' },
    filter: { type: 'string', short: 'f', multiple: true },
  },
  async run({ values, positionals }, { client, stdout }) {
    const list = await client.call(Images.list, values.all ? { all: true } : {});
    let filtered = list;
    if (positionals[0]) {
      const ref = parseReference(positionals[0]);
      const repo = familiarName(ref);
      const tagGiven = positionals[0].includes(':') && positionals[0].lastIndexOf(':') > positionals[0].lastIndexOf('/');
      filtered = list.filter((i) => i.repoTags.some((t) => t === `${repo}:${ref.tag}` || (!tagGiven && t.startsWith(`${repo}:`))))
        .map((i) => ({ ...i, repoTags: i.repoTags.filter((t) => (tagGiven ? t === `${repo}:${ref.tag}` : t.startsWith(`${repo}:`))) }));
    }
    for (const f of strs(values.filter)) filtered = applyFilter(filtered, f);
    const noTrunc = values['no-trunc'] === true;
    if (values.quiet) {
      const seen = new Set<string>();
      for (const i of filtered) {
        const id = noTrunc ? i.id : shortId(i.id);
        if (!seen.has(id)) { seen.add(id); stdout.write(id + '\n'); }
      }
      return;
    }
    const format = str(values.format);
    const all = rows(filtered, noTrunc);
    if (format && format !== 'table') {
      for (const r of all) stdout.write((isJsonFormat(format) ? JSON.stringify(r) : renderTemplate(format, r)) + '\n');
      return;
    }
    const header = ['REPOSITORY', 'TAG', ...(values.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
    stdout.write(table(header, all.map((r) => [r.Repository, r.Tag, ...(values.digests ? [r.Digest] : []), r.ID, r.CreatedSince, r.Size])));
  },
};

/** docker's `--filter dangling=true|false` and `--filter reference=GLOB` (matched against repo and repo:tag). */
function applyFilter(list: ImageSummary[], f: string): ImageSummary[] {
  const eq = f.indexOf('=');
  const key = eq < 0 ? f : f.slice(0, eq);
  const value = eq < 0 ? '' : f.slice(eq + 1);
  if (key === 'dangling') {
    if (value !== 'true' && value !== 'false') throw new UsageError(`invalid filter 'dangling=${value}' (true or false)`);
    return list.filter((i) => (i.repoTags.length === 0) === (value === 'true'));
  }
  if (key === 'reference') {
    const re = new RegExp(`^${value.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
    return list
      .map((i) => ({ ...i, repoTags: i.repoTags.filter((t) => re.test(t) || re.test(t.slice(0, t.lastIndexOf(':')))) }))
      .filter((i) => i.repoTags.length > 0);
  }
  throw new UsageError(`invalid filter '${key}' (dangling, reference)`);
}
