/** SQL of the uploads feature: the blob index and upload sessions. */
import type { Kysely, Selectable } from 'kysely';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';

export interface BlobsTable {
  sha256: string;
  size: number;
  created_at: string;
}
/**
 * `sha256` of a session started without one (`POST /uploads`): the client declares it at
 * completion. A sentinel rather than NULL keeps the column NOT NULL on both dialects.
 */
export const UNDECLARED_SHA = '';

export interface UploadSessionsTable {
  id: string;
  /** The blob's sha256, or UNDECLARED_SHA until completion. */
  sha256: string;
  size: number;
  created_at: string;
  created_by: string | null;
  /** The token that started the session: the only one that may drive it (null: started before 0014). */
  token_id: string | null;
  updated_at: string;
  expires_at: string;
}
export interface UploadsTables {
  blobs: BlobsTable;
  upload_sessions: UploadSessionsTable;
}
export type SessionRow = Selectable<UploadSessionsTable>;

export function createUploadsRepo(anyDb: AnyDb, dialect: Dialect) {
  const root = anyDb as unknown as Kysely<UploadsTables>;
  const on = (tx?: AnyDb) => (tx ?? anyDb) as unknown as Kysely<UploadsTables>;

  return {
    /**
     * The subset of `shas` that is stored. With `lock`, PostgreSQL takes a share lock on the rows
     * so a concurrent GC cannot delete them before the caller's transaction commits (SQLite
     * transactions are serialised already).
     */
    async present(shas: readonly string[], opts: { tx?: AnyDb; lock?: boolean } = {}): Promise<Set<string>> {
      const out = new Set<string>();
      for (let i = 0; i < shas.length; i += 5000) {
        let q = on(opts.tx).selectFrom('blobs').select('sha256').where('sha256', 'in', shas.slice(i, i + 5000));
        if (opts.lock && dialect === 'postgres') q = q.forShare();
        for (const r of await q.execute()) out.add(r.sha256);
      }
      return out;
    },

    async find(sha: string) {
      return root.selectFrom('blobs').selectAll().where('sha256', '=', sha).executeTakeFirst();
    },

    /** Whether any stored blob has exactly `size` bytes (indexed). */
    async sizeStored(size: number): Promise<boolean> {
      return (await root.selectFrom('blobs').select('sha256').where('size', '=', size).limit(1).executeTakeFirst()) !== undefined;
    },

    /** Records a verified blob; false when it was recorded already. */
    async insert(row: BlobsTable, tx?: AnyDb): Promise<boolean> {
      const res = await on(tx).insertInto('blobs').values(row).onConflict((oc) => oc.column('sha256').doNothing()).executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** Blobs created before `before`, in hash order after `after`: GC walks them page by page. */
    async olderThan(before: string, after: string, limit: number) {
      return root
        .selectFrom('blobs')
        .selectAll()
        .where('created_at', '<', before)
        .where('sha256', '>', after)
        .orderBy('sha256')
        .limit(limit)
        .execute();
    },

    /**
     * Deletes the blob row iff `stillUnreferenced` (run inside the same transaction, after the
     * row lock) says so. Returns whether it was deleted.
     */
    async deleteIfUnreferenced(sha: string, stillUnreferenced: (tx: AnyDb) => Promise<boolean>, onDeleted: (tx: AnyDb) => Promise<void>): Promise<boolean> {
      return root.transaction().execute(async (trx) => {
        let q = trx.selectFrom('blobs').select('sha256').where('sha256', '=', sha);
        if (dialect === 'postgres') q = q.forUpdate();
        if (!(await q.executeTakeFirst())) return false;
        if (!(await stillUnreferenced(trx as unknown as AnyDb))) return false;
        await trx.deleteFrom('blobs').where('sha256', '=', sha).execute();
        await onDeleted(trx as unknown as AnyDb);
        return true;
      });
    },

    async insertSession(row: SessionRow, tx?: AnyDb) {
      await on(tx).insertInto('upload_sessions').values(row).execute();
    },
    /** The session `id` if the token `tokenId` started it. */
    async findSession(id: string, tokenId: string) {
      return root.selectFrom('upload_sessions').selectAll().where('id', '=', id).where('token_id', '=', tokenId).executeTakeFirst();
    },
    async touchSession(id: string, now: string, expiresAt: string) {
      await root.updateTable('upload_sessions').set({ updated_at: now, expires_at: expiresAt }).where('id', '=', id).execute();
    },
    /** Deletes the session (with `expiredBefore`, only if it is still expired then); whether this call deleted it. */
    async deleteSession(id: string, tx?: AnyDb, opts: { expiredBefore?: string } = {}): Promise<boolean> {
      let q = on(tx).deleteFrom('upload_sessions').where('id', '=', id);
      if (opts.expiredBefore !== undefined) q = q.where('expires_at', '<', opts.expiredBefore);
      const res = await q.executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    },
    async expiredSessions(now: string, limit: number) {
      return root.selectFrom('upload_sessions').selectAll().where('expires_at', '<', now).limit(limit).execute();
    },
  };
}

export type UploadsRepo = ReturnType<typeof createUploadsRepo>;
