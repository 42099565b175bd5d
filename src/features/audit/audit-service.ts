/**
 * The audit trail: every mutation appends one event in the same transaction as the change,
 * so a rolled-back change leaves no event and a committed one always has one. Events are
 * hash-chained; `verify` recomputes the chain and names the first event that breaks it.
 * Appends are serialised by the append lock (platform/sql/sql-locks.ts), shared with the event log.
 *
 * The head is anchored outside the database by signed checkpoints (`checkpoint`, run
 * periodically by the module): one is written only when the head moved and the events since
 * the previous checkpoint chain from it, so a rewound or rewritten chain is never signed.
 * `verify` compares the chain with the latest checkpoint it can read.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { z } from 'zod';
import type { AuditEvent, AuditVerifyResponse, ListAuditQuery } from '../../contracts/audit.js';
import { iso, type Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';
import type { Logger } from '../../platform/log.js';
import { lockAppendLogs } from '../../platform/sql/sql-locks.js';
import type { CheckpointKey, CheckpointStore } from './audit-checkpoint-store.js';
import { ChainVerifier, checkpointProblem, checkpointSignatureValid, digestOf, eventHash, GENESIS, signCheckpoint, type Checkpoint, type StoredEvent } from './audit-fns.js';

interface AuditEventsTable {
  seq: number;
  at: string;
  actor: string;
  token_id: string | null;
  action: string;
  target: string;
  request_id: string | null;
  client_address: string | null;
  change_digest: string;
  change: string;
  prev_hash: string;
  hash: string;
}
interface AuditTables {
  audit_events: AuditEventsTable;
  audit_head: { id: number; seq: number; hash: string };
}
type Row = Selectable<AuditEventsTable>;

/** The actor of changes the server makes by itself (expiry, sweeps). */
export const SYSTEM_ACTOR: Actor = { tokenId: null, name: 'system', role: 'system', namespaces: null, clientAddress: '', requestId: '' };

export interface AuditEntry {
  action: string;
  target: string;
  /** What changed: small, JSON-serialisable; its digest is chained. */
  change: Record<string, unknown>;
}

/** What a checkpoint run did: signed the head, found it where the last checkpoint left it, or refused. */
export type CheckpointOutcome = { written: Checkpoint } | { unchanged: Checkpoint | null } | { refused: string };

export function createAuditService(deps: {
  db: AnyDb;
  dialect: Dialect;
  clock: Clock;
  /** Signed checkpoints of the head (the server always has them; benchmarks of the chain alone do not). */
  checkpoints?: { store: CheckpointStore; key: CheckpointKey; log: Logger };
}) {
  const root = deps.db as unknown as Kysely<AuditTables>;

  /** A row as the chain sees it: the change stays the stored text, whose digest is checked. */
  const stored = (r: Row): StoredEvent => ({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    tokenId: r.token_id,
    action: r.action,
    target: r.target,
    requestId: r.request_id,
    clientAddress: r.client_address,
    changeDigest: r.change_digest,
    change: r.change,
    prevHash: r.prev_hash,
    hash: r.hash,
  });
  const view = (r: Row): AuditEvent => ({ ...stored(r), change: JSON.parse(r.change) as Record<string, unknown> });

  /** Appends one event on `tx`, which must be the transaction that makes the change. */
  async function record(tx: AnyDb, actor: Actor, entry: AuditEntry): Promise<void> {
      const db = tx as unknown as Kysely<AuditTables>;
      await lockAppendLogs(tx, deps.dialect);
      const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
      const fields = {
        seq: (head?.seq ?? 0) + 1,
        at: iso(deps.clock.now()),
        actor: actor.name,
        tokenId: actor.tokenId,
        action: entry.action,
        target: entry.target,
        requestId: actor.requestId || null,
        clientAddress: actor.clientAddress || null,
        changeDigest: digestOf(entry.change),
        prevHash: head?.hash ?? GENESIS,
      };
      const hash = eventHash(fields);
      await db
        .insertInto('audit_events')
        .values({
          seq: fields.seq,
          at: fields.at,
          actor: fields.actor,
          token_id: fields.tokenId,
          action: fields.action,
          target: fields.target,
          request_id: fields.requestId,
          client_address: fields.clientAddress,
          change_digest: fields.changeDigest,
          change: JSON.stringify(entry.change),
          prev_hash: fields.prevHash,
          hash,
        })
        .execute();
      if (head) await db.updateTable('audit_head').set({ seq: fields.seq, hash }).where('id', '=', 1).execute();
      else await db.insertInto('audit_head').values({ id: 1, seq: fields.seq, hash }).execute();
  }

  /**
   * Pushes events with `after < seq <= upTo` into `v` in sequence order, in pages; `seen` sees
   * each event the chain accepted. 10,000 rows a page: big enough to amortise round trips,
   * small enough to stay a few MB.
   */
  async function walk(v: ChainVerifier, after: number, upTo: number, seen?: (e: StoredEvent) => void): Promise<void> {
    for (;;) {
      const rows = await root.selectFrom('audit_events').selectAll().where('seq', '>', after).where('seq', '<=', upTo).orderBy('seq').limit(10_000).execute();
      for (const r of rows) {
        const e = stored(r);
        if (!v.push(e)) return;
        seen?.(e);
      }
      if (rows.length < 10_000) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** The last checkpoint written or read, once read (undefined before). */
  let lastCheckpoint: Checkpoint | null | undefined;
  let checkpointing: Promise<unknown> = Promise.resolve();

  async function writeCheckpoint(): Promise<CheckpointOutcome> {
    const cps = deps.checkpoints;
    if (!cps) return { unchanged: null };
    if (lastCheckpoint === undefined) lastCheckpoint = await cps.store.latest();
    // A checkpoint this key did not sign anchors nothing: the chain is then checked from its start.
    const from = lastCheckpoint && lastCheckpoint.keyId === cps.key.keyId && checkpointSignatureValid(lastCheckpoint, cps.key.publicKey) ? lastCheckpoint : null;
    const head = await root.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
    const refuse = (problem: string): CheckpointOutcome => {
      cps.log.error({ problem, checkpoint: from && { seq: from.seq, at: from.at } }, 'audit checkpoint not written: the chain does not extend the last checkpoint (run `steward audit verify`)');
      return { refused: problem };
    };
    if (!head) return from ? refuse(`the log is empty but the checkpoint of ${from.at} records ${from.seq} events`) : { unchanged: null };
    if (from && head.seq === from.seq && head.hash === from.hash) return { unchanged: from };
    if (from && head.seq < from.seq) return refuse(`the head is at event ${head.seq} but the checkpoint of ${from.at} records ${from.seq}`);
    // Only the events since the last checkpoint: it vouches for the ones before.
    const v = new ChainVerifier(from ? { seq: from.seq, hash: from.hash } : undefined);
    await walk(v, from?.seq ?? 0, head.seq);
    if (v.firstBad) return refuse(`event ${v.firstBad.seq}: ${v.firstBad.problem}`);
    if (v.lastSeq !== head.seq || v.lastHash !== head.hash) return refuse(`the log does not end at the recorded head (event ${head.seq})`);
    const cp = signCheckpoint({ seq: head.seq, hash: head.hash, at: iso(deps.clock.now()) }, cps.key.privateKey, cps.key.keyId);
    await cps.store.append(cp);
    lastCheckpoint = cp;
    return { written: cp };
  }

  return {
    record,

    /**
     * Signs the head into the checkpoint store if it moved since the last checkpoint and the
     * events since then chain from it (else refuses, logged). Runs one at a time.
     */
    checkpoint(): Promise<CheckpointOutcome> {
      const run = checkpointing.then(writeCheckpoint);
      checkpointing = run.catch(() => undefined);
      return run;
    },

    /** Runs `fn` in a transaction and records `entry` (computed from fn's result) in it. */
    async inTransaction<T>(actor: Actor, fn: (tx: AnyDb) => Promise<T>, entry: (result: T) => AuditEntry | null): Promise<T> {
      return root.transaction().execute(async (trx) => {
        const result = await fn(trx as unknown as AnyDb);
        const e = entry(result);
        if (e) await record(trx as unknown as AnyDb, actor, e);
        return result;
      });
    },

    async list(q: z.output<typeof ListAuditQuery>) {
      let query = root.selectFrom('audit_events').selectAll();
      if (q.actor) query = query.where('actor', '=', q.actor);
      // A trailing "*" asks for a prefix: action=model.alias.* or target=model:acme/bot*.
      const match = (v: string) => (v.endsWith('*') ? { op: 'like' as const, v: `${v.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%` } : { op: '=' as const, v });
      for (const col of ['action', 'target'] as const) {
        const value = q[col];
        if (!value) continue;
        const m = match(value);
        query = m.op === '=' ? query.where(col, '=', m.v) : query.where(sql<boolean>`${sql.ref(col)} like ${m.v} escape '\\'`);
      }
      if (q.since) query = query.where('at', '>=', q.since);
      if (q.until) query = query.where('at', '<', q.until);
      if (q.cursor) {
        const after = Number(Buffer.from(q.cursor, 'base64url').toString());
        if (!Number.isSafeInteger(after)) throw new AppError('invalid_argument', 'invalid cursor: pass the nextCursor of the previous page unchanged');
        query = query.where('seq', q.order === 'asc' ? '>' : '<', after);
      }
      const rows = await query.orderBy('seq', q.order).limit(q.limit + 1).execute();
      const items = rows.slice(0, q.limit).map(view);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > q.limit && last ? Buffer.from(String(last.seq)).toString('base64url') : null };
    },

    /**
     * Recomputes the whole chain in sequence order, in pages, and compares its end with the
     * head, then the chain with the latest signed checkpoint.
     */
    async verify(): Promise<AuditVerifyResponse> {
      const started = performance.now();
      const cps = deps.checkpoints;
      let cp: Checkpoint | null = null;
      try {
        cp = cps ? await cps.store.latest() : null;
      } catch (err) {
        throw new AppError('unavailable', `the audit checkpoints at ${cps!.store.location} cannot be read (${(err as Error).message}); verify compares the chain with the latest one: restore access and retry`, { location: cps!.store.location });
      }
      const v = new ChainVerifier();
      let hashAtCheckpoint: string | null = null;
      await walk(v, 0, Number.MAX_SAFE_INTEGER, (e) => {
        if (e.seq === cp?.seq) hashAtCheckpoint = e.hash;
      });
      if (!v.firstBad) {
        const head = await root.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
        const headSeq = head?.seq ?? 0;
        if (headSeq !== v.lastSeq) {
          v.firstBad = headSeq > v.lastSeq
            ? { seq: v.lastSeq + 1, problem: `the log ends at event ${v.lastSeq} but the head records ${headSeq} (events deleted from the end?)` }
            : { seq: headSeq + 1, problem: `events after ${headSeq} are not covered by the head (inserted at the end?)` };
        } else if (head && head.hash !== v.lastHash) {
          v.firstBad = { seq: v.lastSeq, problem: 'the last event does not match the recorded head (edited or replaced)' };
        }
      }
      if (!v.firstBad && cp && cps) v.firstBad = checkpointProblem(cp, cps.key, { lastSeq: v.lastSeq, hashAtCheckpoint });
      return {
        ok: v.firstBad === null,
        events: v.count,
        head: v.firstBad ? null : v.count ? v.lastHash : null,
        firstBad: v.firstBad,
        checkpoint: cp && cps ? { seq: cp.seq, at: cp.at, keyId: cp.keyId, location: cps.store.location } : null,
        ms: Math.round(performance.now() - started),
      };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
