/**
 * The blob store port: content-addressed bytes under their sha256, two implementations
 * (filesystem, S3-compatible) behind this one interface and one contract suite.
 *
 * Invariants every implementation keeps:
 * - bytes appear under their final name only once fully written and verified against the
 *   sha256 (and size, when given); a crash mid-write never leaves a partial blob visible;
 * - upload sessions append at an exact offset, survive a process restart, and report the
 *   number of bytes they durably hold, so a client can resume where the server stopped.
 */
import type { Readable } from 'node:stream';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive (HTTP Range semantics); omitted means to the end. */
  end?: number | undefined;
}

export interface PutResult {
  size: number;
  /** False when the blob was already present: the bytes were read and verified but not stored again. */
  created: boolean;
}

export interface BlobStore {
  readonly kind: 'fs' | 's3';
  /** Size of the blob, or null when absent. */
  stat(sha256: string): Promise<{ size: number } | null>;
  /**
   * Streams `source` in, hashing as bytes arrive, and stores it under `sha256` iff the digest
   * matches (and the byte count equals `size`, when given). Throws an `unprocessable` AppError
   * on mismatch, leaving nothing behind.
   */
  put(sha256: string, source: Readable, opts?: { size?: number | undefined }): Promise<PutResult>;
  /** A stream of the blob's bytes (or of one range). Throws a `not_found` AppError when absent. */
  get(sha256: string, range?: ByteRange): Promise<Readable>;
  delete(sha256: string): Promise<void>;
  /**
   * The blob's own file, for stores that keep blobs as files (fs): a caller may hard-link or
   * reflink it, never write to it. Null when absent (or the store keeps no files, S3: absent method).
   */
  localPath?(sha256: string): Promise<string | null>;

  /** Bytes durably held by upload session `id`; 0 when it holds none. */
  sessionOffset(id: string): Promise<number>;
  /**
   * Appends `source` to session `id`, which must hold exactly `offset` bytes (else a `conflict`
   * AppError whose details carry the real offset). Reads at most `maxBytes`. Returns the new offset.
   * If the source fails midway the session keeps whatever it durably holds; ask `sessionOffset`.
   */
  sessionAppend(id: string, offset: number, source: Readable, opts: { maxBytes: number }): Promise<number>;
  /** Verifies the session's bytes against `sha256`/`size` and moves them into place; the session is gone afterwards either way. */
  sessionComplete(id: string, sha256: string, size: number): Promise<PutResult>;
  sessionAbort(id: string): Promise<void>;
  /** Checks the store is reachable and writable enough to serve (`/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
