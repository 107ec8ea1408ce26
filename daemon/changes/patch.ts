/**
 * Unified content diffs for the text files of a change list (`sbx diff -p`), git's layout:
 * "diff --git a/P b/P", "--- a/P" (or /dev/null), "+++ b/P" (or /dev/null), hunks with 3 lines of
 * context. Binary files (a NUL byte in the first 8 KiB) and files over MAX_PATCH_BYTES are named,
 * not diffed.
 */
import { structuredPatch } from 'diff';
import type { Change, FilePatch } from '../../protocol/index.js';
import type { FsView } from '../snapshots/view.js';

export const MAX_PATCH_BYTES = 1024 * 1024;

type Content = { text: string } | { binary: true } | { tooLarge: true };

async function readContent(view: FsView, path: string): Promise<Content> {
  // One open of what the path is now: its type and size come from that inode, never from an
  // earlier lstat, and a symlink swapped in meanwhile is not followed (view.ts).
  const r = await view.readFile(path, MAX_PATCH_BYTES);
  if (!r || r.entry.kind !== 'file') return { text: '' };
  if (!r.data) return { tooLarge: true };
  if (r.data.subarray(0, 8192).includes(0)) return { binary: true };
  return { text: r.data.toString('utf8') };
}

export function formatPatch(path: string, oldText: string | undefined, newText: string | undefined): string {
  const p = structuredPatch(`a${path}`, `b${path}`, oldText ?? '', newText ?? '', undefined, undefined, { context: 3 });
  if (p.hunks.length === 0) return '';
  const out = [`diff --git a${path} b${path}`, `--- ${oldText === undefined ? '/dev/null' : `a${path}`}`, `+++ ${newText === undefined ? '/dev/null' : `b${path}`}`];
  for (const h of p.hunks) {
    // An absent side starts at line 0, as diff(1) and git print it.
    const oldStart = h.oldLines === 0 && oldText === undefined ? 0 : h.oldStart;
    const newStart = h.newLines === 0 && newText === undefined ? 0 : h.newStart;
    out.push(`@@ -${oldStart},${h.oldLines} +${newStart},${h.newLines} @@`);
    out.push(...h.lines);
  }
  return out.join('\n') + '\n';
}

/** Patches for the file entries of `changes`, `from` → `to`, in the changes' order. */
export async function patchesFor(changes: Change[], from: FsView, to: FsView): Promise<FilePatch[]> {
  const out: FilePatch[] = [];
  for (const c of changes) {
    if (c.kind !== 'file') continue;
    const before = c.op === 'add' ? undefined : await readContent(from, c.path);
    const after = c.op === 'delete' ? undefined : await readContent(to, c.path);
    const p: FilePatch = { path: c.path, op: c.op };
    if ((before && 'tooLarge' in before) || (after && 'tooLarge' in after)) p.tooLarge = true;
    else if ((before && 'binary' in before) || (after && 'binary' in after)) p.binary = true;
    else {
      const text = formatPatch(c.path, before && 'text' in before ? before.text : undefined, after && 'text' in after ? after.text : undefined);
      if (!text) continue;
      p.patch = text;
    }
    out.push(p);
  }
  return out;
}
