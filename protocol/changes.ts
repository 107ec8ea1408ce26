/**
 * Changes: what a container did to its file system (`sbx diff`, docker's A/C/D), the live change
 * journal (`sbx events`, `containers/<id>/changes.jsonl`, the `sbx.changes.v1` feed) and unified
 * content diffs (`sbx diff -p`).
 *
 * Paths are absolute inside the container's root ("/etc/motd"), '/'-separated, never "/" itself.
 */
import { channel, route } from './api.js';
import type { ErrorBody } from './errors.js';
import { bool, opt, str, uint, type Fields } from './validate.js';

export type ChangeOp = 'add' | 'modify' | 'delete';
export type EntryKind = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/** One entry of a diff: docker's `{Path, Kind}` with a readable op, the entry's kind and, for files, its size. */
export interface Change {
  op: ChangeOp;
  path: string;
  kind: EntryKind;
  size?: number;
}

/** docker's letters: A added, C changed, D deleted. */
export const CHANGE_LETTER: Readonly<Record<ChangeOp, 'A' | 'C' | 'D'>> = { add: 'A', modify: 'C', delete: 'D' };

/**
 * One line of the journal. `seq` starts at 1 and grows by one per record, per container, for the
 * container's whole life; `ts` is when the rescan saw the change (ISO 8601, ms).
 */
export interface ChangeRecord extends Change {
  seq: number;
  ts: string;
}

/** A unified diff of one text file (`sbx diff -p`); `binary` when the content is not text. */
export interface FilePatch {
  path: string;
  op: ChangeOp;
  patch?: string;
  binary?: boolean;
  /** Set when the file was too large to diff. */
  tooLarge?: boolean;
}

export interface DiffRequest {
  /** A container (name or ID), or with `to` also an image. */
  from: string;
  /** Compare `from` with this container or image instead of `from`'s own image. */
  to?: string;
  /** Also compute unified diffs for changed text files. */
  patch?: boolean;
}

export const diffFields: Fields<DiffRequest> = { from: str, to: opt(str), patch: opt(bool) };

export interface DiffResult {
  changes: Change[];
  patches?: FilePatch[];
}

export interface JournalRequest {
  id: string;
  /** Return the records with seq > since (default 0: all). */
  since?: number;
}

export interface JournalResult {
  records: ChangeRecord[];
  /** The last seq written so far (0 when none). */
  last: number;
}

/** Messages of the `sbx.changes.v1` feed (text frames, one JSON object each, server → client). */
export type ChangeFeedMessage =
  | { type: 'record'; record: ChangeRecord }
  /** Everything recorded up to `seq` has been sent; live records follow. */
  | { type: 'synced'; seq: number }
  /** The container stopped; no record will follow `seq`. The server then closes with 1000. */
  | { type: 'end'; seq: number }
  | { type: 'error'; error: ErrorBody };

export const CHANGES_SUBPROTOCOL = 'sbx.changes.v1';

export const Changes = {
  /** `sbx diff`: container vs its image, or any two containers/images. */
  diff: route<DiffRequest, DiffResult>('GET', '/v1/diff', 'json', diffFields),
  /** The journal from a seq on (a settled view: pending rescans are flushed first). */
  journal: route<JournalRequest, JournalResult>('GET', '/v1/containers/:id/changes', 'json', { id: str, since: opt(uint) }),
  /** The live journal: backlog after `since`, `synced`, then records as they happen. */
  feed: channel<{ id: string; since?: number }>('/v1/containers/:id/changes/feed', CHANGES_SUBPROTOCOL, { id: str, since: opt(uint) }),
} as const;

/** docker's diff line: "A /www". */
export function formatChange(c: Change): string {
  return `${CHANGE_LETTER[c.op]} ${c.path}`;
}

/** docker's ordering: by path, byte-wise, so a parent comes before its children. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
