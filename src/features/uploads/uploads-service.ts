/**
 * Blob uploads: single-request puts, resumable sessions for large blobs, existence checks,
 * and garbage collection. The rule it enforces: a blob is recorded (and so counts as present
 * for finalising a version) only after the store verified its bytes against the sha256.
 *
 * A session may also start without its sha256 (a client that hashes the bytes as it sends
 * them, reading each file once); the sha256 is then declared at completion and verified like
 * any other against the digest the store computed of what it wrote. Such a session is refused
 * when a stored blob has the same size, because its bytes might be that blob: the client then
 * hashes first and lets the server skip the upload.
 *
 * A session is the private state of one client: only the token that started it may read, feed,
 * complete or abort it. Any other token (an admin's too) is answered 404, as for a session that
 * does not exist, so a session id seen in a log lets nobody else drive it or learn it is there.
 * Abandoned sessions are removed by expiry (GC and the sweeper).
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { GcResponse, UploadSessionResponse } from '../../contracts/uploads.js';
import type { BlobStore, ByteRange } from '../../platform/blob/blob-store.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AuditService } from '../audit/audit-service.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import { UNDECLARED_SHA, type SessionRow, type UploadsRepo } from './uploads-repo.js';

/** What GC needs from a feature whose records keep blobs alive (the registry registers with `holdBlobs`). */
export interface BlobReferences {
  referencedAmong(shas: readonly string[], tx?: AnyDb): Promise<Set<string>>;
  expirePendingVersions(): Promise<number>;
}

export interface UploadsDeps {
  repo: UploadsRepo;
  store: BlobStore;
  /** Recording a blob and its audit event happen in one transaction. */
  audit: Pick<AuditService, 'inTransaction' | 'record'>;
  clock: Clock;
  log: Logger;
  limits: { maxChunkBytes: number; sessionTtlSeconds: number; gcGraceSeconds: number };
  /** Every holder at once: the uploads module unites the registered ones. */
  references: BlobReferences;
  /** Told of every byte received: by a single put or a session chunk. */
  onBytes?: (via: 'put' | 'chunk', bytes: number) => void;
}

export function createUploadsService(deps: UploadsDeps) {
  const { repo, store, clock, limits, audit } = deps;

  /** Adds a verified blob to the index, with its audit event, unless it is there already. */
  async function recordBlob(actor: Actor, sha256: string, size: number, via: string): Promise<void> {
    await audit.inTransaction(
      actor,
      (tx) => repo.insert({ sha256, size, created_at: iso(clock.now()) }, tx),
      (inserted) => (inserted ? { action: 'blob.put', target: `blob:${sha256}`, change: { size, via } } : null),
    );
  }

  async function putBlob(sha256: string, body: Readable, size: number | undefined, actor: Actor) {
    const known = await repo.find(sha256);
    if (known && (await store.stat(sha256))) {
      body.resume();
      return { sha256, size: known.size, created: false };
    }
    const res = await store.put(sha256, body, { size });
    deps.onBytes?.('put', res.size);
    await recordBlob(actor, sha256, res.size, 'put');
    return { sha256, size: res.size, created: res.created };
  }

  function sessionView(row: SessionRow, offset: number, complete = false): UploadSessionResponse {
    return {
      id: row.id,
      sha256: row.sha256 === UNDECLARED_SHA ? null : row.sha256,
      size: row.size,
      offset,
      maxChunkBytes: limits.maxChunkBytes,
      complete,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }

  /** What a session's audit events name: its blob, or the session itself while the blob is undeclared. */
  function sessionTarget(row: SessionRow): string {
    return row.sha256 === UNDECLARED_SHA ? `upload:${row.id}` : `blob:${row.sha256}`;
  }

  function newSessionRow(sha256: string, size: number, actor: Actor): SessionRow {
    const now = clock.now();
    return {
      id: randomUUID(),
      sha256,
      size,
      created_at: iso(now),
      created_by: actor.name,
      token_id: actor.tokenId,
      updated_at: iso(now),
      expires_at: iso(addSeconds(now, limits.sessionTtlSeconds)),
    };
  }

  /** The session if `actor`'s token started it; otherwise 404, whether or not it exists. */
  async function getSessionRow(id: string, actor: Actor): Promise<SessionRow> {
    const row = actor.tokenId === null ? undefined : await repo.findSession(id, actor.tokenId);
    if (!row) throw new AppError('not_found', `upload session ${id} not found (it may have completed or expired)`, { upload: id });
    return row;
  }

  return {
    putBlob,

    async statBlob(sha256: string) {
      const row = await repo.find(sha256);
      return row ? { sha256, size: row.size } : null;
    },

    async readBlob(sha256: string, range?: ByteRange) {
      return store.get(sha256, range);
    },

    /** Shas among `shas` that are not stored yet, in input order, without duplicates. */
    async missing(shas: readonly string[], tx?: AnyDb): Promise<string[]> {
      const unique = [...new Set(shas)];
      const present = await repo.present(unique, { tx });
      return unique.filter((s) => !present.has(s));
    },

    /** Like `missing`, but locks the present rows against GC until `tx` commits. */
    async missingLocked(shas: readonly string[], tx: AnyDb): Promise<string[]> {
      const unique = [...new Set(shas)];
      const present = await repo.present(unique, { tx, lock: true });
      return unique.filter((s) => !present.has(s));
    },

    async createSession(sha256: string, size: number, actor: Actor): Promise<{ session: UploadSessionResponse; created: boolean }> {
      const row = newSessionRow(sha256, size, actor);
      if (await repo.find(sha256)) return { session: sessionView(row, size, true), created: false };
      await audit.inTransaction(actor, (tx) => repo.insertSession(row, tx), () => ({ action: 'upload.start', target: `blob:${sha256}`, change: { session: row.id, size } }));
      return { session: sessionView(row, 0), created: true };
    },

    /** A session whose sha256 is declared at completion; refused while a stored blob has this size. */
    async createUndeclaredSession(size: number, actor: Actor): Promise<UploadSessionResponse> {
      if (await repo.sizeStored(size)) {
        throw new AppError('conflict', `a stored blob has ${size} bytes and these may be it: hash them first and start the upload at /blobs/{sha256}/uploads, which skips a blob the server holds`, { sizeStored: true });
      }
      const row = newSessionRow(UNDECLARED_SHA, size, actor);
      await audit.inTransaction(actor, (tx) => repo.insertSession(row, tx), () => ({ action: 'upload.start', target: sessionTarget(row), change: { session: row.id, size } }));
      return sessionView(row, 0);
    },

    async getSession(id: string, actor: Actor): Promise<UploadSessionResponse> {
      const row = await getSessionRow(id, actor);
      return sessionView(row, await store.sessionOffset(id));
    },

    async appendChunk(id: string, offset: number, body: Readable, actor: Actor): Promise<UploadSessionResponse> {
      const row = await getSessionRow(id, actor);
      if (offset > row.size) throw new AppError('invalid_argument', `offset ${offset} is past the blob's size ${row.size}`);
      const maxBytes = Math.min(limits.maxChunkBytes, row.size - offset);
      const next = await store.sessionAppend(id, offset, body, { maxBytes });
      deps.onBytes?.('chunk', next - offset);
      const now = clock.now();
      await repo.touchSession(id, iso(now), iso(addSeconds(now, limits.sessionTtlSeconds)));
      return sessionView(row, next);
    },

    /** Verifies and stores the session's bytes; `declared` is the sha256 a session started without one needs. */
    async completeSession(id: string, actor: Actor, declared?: string) {
      const row = await getSessionRow(id, actor);
      if (row.sha256 === UNDECLARED_SHA && !declared) throw new AppError('invalid_argument', `upload session ${id} was started without a sha256: send it as {"sha256": …} to complete it`);
      if (row.sha256 !== UNDECLARED_SHA && declared && declared !== row.sha256) {
        throw new AppError('invalid_argument', `upload session ${id} is for blob ${row.sha256}, not ${declared}`, { sha256: row.sha256 });
      }
      const sha256 = row.sha256 === UNDECLARED_SHA ? declared! : row.sha256;
      try {
        const res = await store.sessionComplete(id, sha256, row.size);
        await recordBlob(actor, sha256, res.size, `session ${id}`);
        await repo.deleteSession(id);
        return { sha256, size: res.size, created: res.created };
      } catch (err) {
        // A mismatch consumed the session's bytes: the session is gone, the client starts over.
        if (err instanceof AppError && err.code === 'unprocessable') await repo.deleteSession(id);
        throw err;
      }
    },

    async abortSession(id: string, actor: Actor) {
      const row = await getSessionRow(id, actor);
      await store.sessionAbort(id);
      // Concurrent aborts (or an expiry) all end the session; only the one that deleted it is audited.
      await audit.inTransaction(actor, (tx) => repo.deleteSession(id, tx), (deleted) => (deleted ? { action: 'upload.abort', target: sessionTarget(row), change: { session: id } } : null));
    },

    /**
     * Removes blobs no version references and that are older than the grace period (an upload
     * whose version is being created right now is younger). Each deletion re-checks references
     * under a row lock in its own transaction, so a version finalised concurrently keeps its blobs.
     */
    async collectGarbage(dryRun: boolean, actor: Actor = SYSTEM_ACTOR): Promise<GcResponse> {
      const refs = deps.references;
      const now = clock.now();
      const expiredVersions = dryRun ? 0 : await refs.expirePendingVersions();
      let expiredUploads = 0;
      if (!dryRun) {
        for (const s of await repo.expiredSessions(iso(now), 10_000)) {
          // Deleted only if still expired: a chunk that arrived since the listing extended it.
          const deleted = await audit.inTransaction(
            actor,
            (tx) => repo.deleteSession(s.id, tx, { expiredBefore: iso(now) }),
            (d) => (d ? { action: 'upload.expire', target: sessionTarget(s), change: { session: s.id } } : null),
          );
          if (!deleted) continue;
          await store.sessionAbort(s.id);
          expiredUploads++;
        }
      }
      const before = iso(addSeconds(now, -limits.gcGraceSeconds));
      let after = '';
      let blobs = 0;
      let bytes = 0;
      const sample: string[] = [];
      for (;;) {
        const page = await repo.olderThan(before, after, 1000);
        if (!page.length) break;
        after = page[page.length - 1]!.sha256;
        const referenced = await refs.referencedAmong(page.map((b) => b.sha256));
        for (const b of page) {
          if (referenced.has(b.sha256)) continue;
          if (!dryRun) {
            const deleted = await repo.deleteIfUnreferenced(
              b.sha256,
              async (tx) => (await refs.referencedAmong([b.sha256], tx)).size === 0,
              (tx) => audit.record(tx, actor, { action: 'blob.delete', target: `blob:${b.sha256}`, change: { size: b.size, reason: 'unreferenced' } }),
            );
            if (!deleted) continue;
            await store.delete(b.sha256);
          }
          blobs++;
          bytes += b.size;
          if (sample.length < 100) sample.push(b.sha256);
        }
      }
      if (!dryRun) deps.log.info({ blobs, bytes, expiredVersions, expiredUploads }, 'garbage collected');
      return { dryRun, blobs, bytes, expiredVersions, expiredUploads, sample };
    },
  };
}

export type UploadsService = ReturnType<typeof createUploadsService>;
