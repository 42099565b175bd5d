import { describe, expect, it } from 'vitest';
import { canonicalJson, ChainVerifier, digestOf, eventHash, GENESIS, type StoredEvent } from './audit-fns.js';

function chain(n: number): StoredEvent[] {
  const out: StoredEvent[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const change = { version: `1.0.${seq}`, files: seq };
    const fields = { seq, at: `2026-01-01T00:00:0${seq % 10}.000Z`, actor: 'alice', tokenId: 't1', action: 'version.create', target: `model:m@1.0.${seq}`, requestId: `r${seq}`, clientAddress: '127.0.0.1', changeDigest: digestOf(change), prevHash: prev };
    const hash = eventHash(fields);
    out.push({ ...fields, hash, change: JSON.stringify(change) });
    prev = hash;
  }
  return out;
}

function verify(events: StoredEvent[]) {
  const v = new ChainVerifier();
  for (const e of events) if (!v.push(e)) break;
  return v;
}

describe('canonicalJson', () => {
  it('does not depend on key order, at any depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }));
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });
});

describe('ChainVerifier', () => {
  it('accepts an intact chain', () => {
    const v = verify(chain(5));
    expect(v.firstBad).toBeNull();
    expect(v.count).toBe(5);
    expect(v.lastSeq).toBe(5);
  });
  it('catches an edited field', () => {
    const c = chain(5);
    c[2] = { ...c[2]!, actor: 'mallory' };
    expect(verify(c).firstBad).toMatchObject({ seq: 3, problem: expect.stringContaining('edited') });
  });
  it('catches an edited change payload', () => {
    const c = chain(5);
    c[1] = { ...c[1]!, change: JSON.stringify({ version: '9.9.9', files: 2 }) };
    expect(verify(c).firstBad).toMatchObject({ seq: 2, problem: expect.stringContaining('digest') });
  });
  it('catches a deleted event', () => {
    const c = chain(5);
    c.splice(2, 1);
    expect(verify(c).firstBad).toMatchObject({ seq: 3, problem: expect.stringContaining('missing') });
  });
  it('catches an inserted event even with a plausible sequence', () => {
    const c = chain(5);
    const forged = { ...c[2]!, seq: 3, actor: 'mallory' };
    forged.hash = eventHash(forged);
    const rest = c.slice(3).map((e) => ({ ...e }));
    const v = verify([...c.slice(0, 2), forged, ...rest]);
    expect(v.firstBad?.seq).toBe(4);
  });
  it('catches two swapped events', () => {
    const c = chain(5);
    const a = { ...c[1]!, seq: 3 };
    const b = { ...c[2]!, seq: 2 };
    expect(verify([c[0]!, b, a, c[3]!, c[4]!]).firstBad?.seq).toBe(2);
  });
});
