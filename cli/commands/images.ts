import { Images, familiarName, parseReference, type ImageSummary } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { humanSize, shortId, table, timeAgo } from '../output.js';
import { checkListFormat, formatList } from '../template.js';

interface Row { Repository: string; Tag: string; ID: string; Digest: string; CreatedSince: string; CreatedAt: string; Size: string; VirtualSize: string; Containers: string; SharedSize: string; UniqueSize: string }

/** "repo@sha256:…" → [repo, digest]; anything else → undefined. */
function splitRepoDigest(r: string): [string, string] | undefined {
  const at = r.lastIndexOf('@');
  return at > 0 ? [r.slice(0, at), r.slice(at + 1)] : undefined;
}

/**
 * The rows docker prints for these images (its formatter's rules): one per repo:tag, whose
 * DIGEST is each repo digest recorded for that same repository (pull or push), `<none>` when the
 * repository has none or digests are not wanted; a repository known only by digest gets rows with
 * TAG `<none>`; an image with neither tags nor digests one `<none>` row.
 */
export function imageRows(images: ImageSummary[], opts: { noTrunc?: boolean; digests?: boolean }): Row[] {
  const out: Row[] = [];
  for (const img of images) {
    const base = {
      ID: opts.noTrunc ? img.id : shortId(img.id),
      CreatedSince: timeAgo(img.created), CreatedAt: goTime(img.created),
      Size: humanSize(img.size), VirtualSize: humanSize(img.size), Containers: 'N/A', SharedSize: 'N/A', UniqueSize: 'N/A',
    };
    const add = (Repository: string, Tag: string, Digest: string): void => { out.push({ Repository, Tag, Digest, ...base }); };
    const digestsOf = new Map<string, string[]>();
    for (const r of img.repoDigests) {
      const rd = splitRepoDigest(r);
      if (rd) digestsOf.set(rd[0], [...(digestsOf.get(rd[0]) ?? []), rd[1]]);
    }
    if (img.repoTags.length === 0 && digestsOf.size === 0) { add('<none>', '<none>', '<none>'); continue; }
    const tagged = new Set<string>();
    for (const t of img.repoTags) {
      const i = t.lastIndexOf(':');
      const repo = t.slice(0, i);
      tagged.add(repo);
      const digests = opts.digests ? (digestsOf.get(repo) ?? []) : [];
      if (digests.length === 0) add(repo, t.slice(i + 1), '<none>');
      for (const dg of digests) add(repo, t.slice(i + 1), dg);
    }
    for (const [repo, digests] of digestsOf) {
      if (tagged.has(repo)) continue;
      if (opts.digests) for (const dg of digests) add(repo, '<none>', dg);
      else add(repo, '<none>', '');
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
      // docker turns the argument into a reference filter: a repo digest stays only when the
      // argument names its repository without a tag.
      filtered = list.filter((i) => i.repoTags.some((t) => t === `${repo}:${ref.tag}` || (!tagGiven && t.startsWith(`${repo}:`))))
        .map((i) => ({
          ...i,
          repoTags: i.repoTags.filter((t) => (tagGiven ? t === `${repo}:${ref.tag}` : t.startsWith(`${repo}:`))),
          repoDigests: tagGiven ? [] : i.repoDigests.filter((r) => r.startsWith(`${repo}@`)),
        }));
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
    checkListFormat(format);
    // docker fills DIGEST when --digests is given or the template names {{.Digest}}; otherwise <none>.
    const all = imageRows(filtered, { noTrunc, digests: values.digests === true || (format ?? '').includes('{{.Digest}}') });
    const header = ['REPOSITORY', 'TAG', ...(values.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
    stdout.write(formatList(format, all, {
      type: '*formatter.ImageContext',
      headers: { Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE', VirtualSize: 'VIRTUAL SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE' },
      table: () => table(header, all.map((r) => [r.Repository, r.Tag, ...(values.digests ? [r.Digest] : []), r.ID, r.CreatedSince, r.Size])),
    }));
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
      .map((i) => ({
        ...i,
        repoTags: i.repoTags.filter((t) => re.test(t) || re.test(t.slice(0, t.lastIndexOf(':')))),
        repoDigests: i.repoDigests.filter((r) => re.test(r) || re.test(r.slice(0, r.lastIndexOf('@')))),
      }))
      .filter((i) => i.repoTags.length > 0 || i.repoDigests.length > 0);
  }
  throw new UsageError(`invalid filter '${key}' (dangling, reference)`);
}
