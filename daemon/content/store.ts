/**
 * ContentStore: immutable blobs addressed by their sha256 digest (containerd's content.Store,
 * umoci's cas.Engine, reduced).
 *
 * Contract
 * - Bytes become visible to info/has/read/list only after their digest, and their size when one
 *   is expected, has been verified and the file renamed into place (temp, fsync, rename). A
 *   crash never leaves a partial blob visible; leftovers in the ingest area are removed at open.
 * - write() of a blob that already exists verifies the incoming bytes and returns the existing
 *   info (idempotent); delete() of a missing blob succeeds (idempotent).
 * - read() re-verifies: the stream fails with `digest_mismatch` at EOF if the bytes on disk no
 *   longer hash to the digest or have the wrong size. readBytes() does the same for small blobs.
 *
 * Errors (SbxError codes)
 * - not_found: info/read/readBytes of a digest the store lacks.
 * - digest_mismatch: written or read bytes do not match the expected digest or size.
 * - invalid_argument: a malformed digest.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../protocol/index.js';

export interface BlobInfo { digest: Digest; size: number }
export interface Expect { digest?: Digest; size?: number }

export interface ContentStore {
  /** @throws not_found */
  info(digest: Digest): Promise<BlobInfo>;
  has(digest: Digest): Promise<boolean>;
  /** A verifying stream; errors with digest_mismatch at EOF on corruption. @throws not_found */
  read(digest: Digest): Promise<Readable>;
  /** Whole blob, verified. For manifests and configs. @throws not_found, digest_mismatch */
  readBytes(digest: Digest): Promise<Buffer>;
  /**
   * Hash while writing; commit by rename. A stream may yield batches (arrays) of buffers: each is
   * written with one writev, without copying them together. @throws digest_mismatch
   */
  write(data: Readable | AsyncIterable<Uint8Array | readonly Uint8Array[]> | Uint8Array, expect?: Expect, signal?: AbortSignal): Promise<BlobInfo>;
  /** A chunked write keyed by `ref` (registry uploads), alive for the daemon's lifetime. */
  ingest(ref: string): Promise<Ingest>;
  /** Idempotent. */
  delete(digest: Digest): Promise<void>;
  list(): AsyncIterable<BlobInfo>;
  /**
   * Where the verified blob lives on disk, for zero-copy readers (sendfile, tar extraction)
   * that verify as they go. Writers must never touch it. @throws not_found
   */
  path(digest: Digest): Promise<string>;
}

export interface Ingest {
  readonly ref: string;
  /** Bytes appended so far. */
  readonly offset: number;
  /** Append bytes; returns the new offset. */
  append(chunk: Readable | AsyncIterable<Uint8Array | readonly Uint8Array[]> | Uint8Array): Promise<number>;
  /** Verify and publish. Always closes the ingest, even on error. @throws digest_mismatch */
  commit(expect: Expect): Promise<BlobInfo>;
  abort(): Promise<void>;
}
