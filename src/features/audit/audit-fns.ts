/**
 * The hash chain. Each event's hash covers its own fields and the previous event's hash, so
 * editing, deleting, inserting or reordering any event breaks every hash after it; a
 * separately stored head (sequence and hash of the last event) catches a truncated tail.
 */
import { createHash } from 'node:crypto';

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
  private expectedSeq = 1;
  private prev = GENESIS;
  count = 0;
  firstBad: { seq: number; problem: string } | null = null;

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
