/**
 * The hash chain. Each event's hash covers its own fields and the previous event's hash, so
 * editing, deleting, inserting or reordering any event breaks every hash after it; a
 * separately stored head (sequence and hash of the last event) catches a truncated tail.
 * Signed checkpoints (seq and hash of the head at a time, signed with the server's ed25519
 * key, kept outside the database) catch what the head cannot: a tail truncated together with
 * the head, or both tables wiped.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

export interface ChainFields {
  seq: number;
  at: string;
  actor: string;
  tokenId: string | null;
  action: string;
  target: string;
  requestId: string | null;
  clientAddress: string | null;
  changeDigest: string;
  prevHash: string;
}

/** JSON with object keys sorted at every depth: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function digestOf(change: unknown): string {
  return createHash('sha256').update(canonicalJson(change)).digest('hex');
}

export function eventHash(e: ChainFields): string {
  // Fields joined by a separator that cannot occur in any of them unescaped (JSON strings).
  return createHash('sha256')
    .update(JSON.stringify([e.seq, e.at, e.actor, e.tokenId, e.action, e.target, e.requestId, e.clientAddress, e.changeDigest, e.prevHash]))
    .digest('hex');
}

export interface StoredEvent extends ChainFields {
  hash: string;
  change: string;
}

/**
 * Walks events in sequence order and returns the first problem: a gap or repeat in the
 * sequence (deleted/inserted), a prev-hash that is not the previous event's hash
 * (reordered/inserted), a hash that does not match the fields (edited), or a change whose
 * digest differs (edited payload).
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prev: string;
  count = 0;
  firstBad: { seq: number; problem: string } | null = null;

  /** From the start of the chain, or from an event already trusted (`after`: its seq and hash). */
  constructor(after: { seq: number; hash: string } = { seq: 0, hash: GENESIS }) {
    this.expectedSeq = after.seq + 1;
    this.prev = after.hash;
  }

  push(e: StoredEvent): boolean {
    if (this.firstBad) return false;
    this.count++;
    const bad = (problem: string) => {
      this.firstBad = { seq: e.seq, problem };
      return false;
    };
    if (e.seq > this.expectedSeq) {
      this.firstBad = { seq: this.expectedSeq, problem: `event ${this.expectedSeq}${e.seq - 1 > this.expectedSeq ? `..${e.seq - 1}` : ''} is missing (deleted?)` };
      return false;
    }
    if (e.seq < this.expectedSeq) return bad(`sequence ${e.seq} appears out of order or twice`);
    if (e.prevHash !== this.prev) return bad('its previous-hash does not match the event before it (inserted, deleted or reordered)');
    if (digestOf(JSON.parse(e.change)) !== e.changeDigest) return bad('its change does not match its digest (edited)');
    if (eventHash(e) !== e.hash) return bad('its hash does not match its fields (edited)');
    this.prev = e.hash;
    this.expectedSeq++;
    return true;
  }

  get head(): string | null {
    return this.count && !this.firstBad ? this.prev : this.count ? null : null;
  }
  get lastHash(): string {
    return this.prev;
  }
  get lastSeq(): number {
    return this.expectedSeq - 1;
  }
}

/** A signed statement that the chain had `seq` events, the last one hashing to `hash`, at `at`. */
export interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
  /** Which key signed it: the first 16 hex digits of the sha256 of its public key (SPKI DER). */
  keyId: string;
  /** ed25519 signature of `checkpointMessage`, base64. */
  signature: string;
}

/** The bytes a checkpoint's signature covers; the prefix keeps any other signed text from passing for one. */
export function checkpointMessage(cp: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(`steward-audit-checkpoint/1\n${JSON.stringify([cp.seq, cp.hash, cp.at, cp.keyId])}`);
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function signCheckpoint(head: { seq: number; hash: string; at: string }, privateKey: KeyObject, keyId: string): Checkpoint {
  const fields = { seq: head.seq, hash: head.hash, at: head.at, keyId };
  return { ...fields, signature: sign(null, checkpointMessage(fields), privateKey).toString('base64') };
}

export function checkpointSignatureValid(cp: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, checkpointMessage(cp), publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}

/** A checkpoint read back from its store, or null when the value does not have its shape. */
export function parseCheckpoint(value: unknown): Checkpoint | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const ok =
    typeof v.seq === 'number' && Number.isSafeInteger(v.seq) && v.seq > 0 &&
    typeof v.hash === 'string' && /^[0-9a-f]{64}$/.test(v.hash) &&
    typeof v.at === 'string' && typeof v.keyId === 'string' && typeof v.signature === 'string';
  return ok ? { seq: v.seq as number, hash: v.hash as string, at: v.at as string, keyId: v.keyId as string, signature: v.signature as string } : null;
}

/**
 * What the chain contradicts in the latest checkpoint, or null when it agrees: the checkpoint
 * is not this server's or its signature is wrong (forged or edited), the chain ends before it
 * (the tail and head were rewound, or the tables wiped), or the event at its seq differs (the
 * chain was recomputed from there or earlier). `chain` is the chain as verified: its last seq
 * and the hash of its event at `cp.seq` (null when it has none).
 */
export function checkpointProblem(cp: Checkpoint, key: { keyId: string; publicKey: KeyObject }, chain: { lastSeq: number; hashAtCheckpoint: string | null }): { seq: number; problem: string } | null {
  const which = `the signed checkpoint of ${cp.at} (event ${cp.seq})`;
  if (cp.keyId !== key.keyId) {
    return { seq: cp.seq, problem: `${which} is signed by key ${cp.keyId}, not by this server's key ${key.keyId}: forged, or written by a replica with another key (give every replica the same STEWARD_AUDIT_CHECKPOINT_KEY_FILE)` };
  }
  if (!checkpointSignatureValid(cp, key.publicKey)) return { seq: cp.seq, problem: `${which} has an invalid signature (forged or edited checkpoint)` };
  if (chain.lastSeq < cp.seq) {
    return { seq: chain.lastSeq + 1, problem: `the log ends at event ${chain.lastSeq} but ${which} records ${cp.seq} events (events deleted from the end and the head rewound, or the log wiped)` };
  }
  if (chain.hashAtCheckpoint !== cp.hash) return { seq: cp.seq, problem: `event ${cp.seq} does not match ${which} (the chain was rewritten at or before it)` };
  return null;
}
