import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, ChainVerifier, checkpointProblem, digestOf, eventHash, GENESIS, keyIdOf, parseCheckpoint, signCheckpoint, type StoredEvent } from './audit-fns.js';

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

describe('ChainVerifier from a trusted event', () => {
  it('checks only what follows it, and that the first event links to it', () => {
    const c = chain(5);
    const v = new ChainVerifier({ seq: 2, hash: c[1]!.hash });
    for (const e of c.slice(2)) v.push(e);
    expect(v.firstBad).toBeNull();
    expect(v.lastSeq).toBe(5);
    const w = new ChainVerifier({ seq: 2, hash: 'f'.repeat(64) });
    w.push(c[2]!);
    expect(w.firstBad).toMatchObject({ seq: 3, problem: expect.stringContaining('previous-hash') });
  });
});

describe('checkpoints', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = { keyId: keyIdOf(publicKey), publicKey };
  const c = chain(5);
  const cp = signCheckpoint({ seq: 4, hash: c[3]!.hash, at: '2026-01-01T00:01:00.000Z' }, privateKey, key.keyId);

  it('agree with the chain they were signed over, and with a longer one', () => {
    expect(checkpointProblem(cp, key, { lastSeq: 4, hashAtCheckpoint: c[3]!.hash })).toBeNull();
    expect(checkpointProblem(cp, key, { lastSeq: 5, hashAtCheckpoint: c[3]!.hash })).toBeNull();
  });
  it('catch a chain that ends before them (rewound or wiped)', () => {
    expect(checkpointProblem(cp, key, { lastSeq: 2, hashAtCheckpoint: null })).toMatchObject({ seq: 3, problem: expect.stringContaining('log ends at event 2') });
    expect(checkpointProblem(cp, key, { lastSeq: 0, hashAtCheckpoint: null })).toMatchObject({ seq: 1 });
  });
  it('catch a chain rewritten at or before them', () => {
    expect(checkpointProblem(cp, key, { lastSeq: 5, hashAtCheckpoint: 'e'.repeat(64) })).toMatchObject({ seq: 4, problem: expect.stringContaining('does not match') });
  });
  it('refuse an edited checkpoint, a forged signature and another key', () => {
    const chainOk = { lastSeq: 5, hashAtCheckpoint: c[3]!.hash };
    expect(checkpointProblem({ ...cp, seq: 3 }, key, chainOk)?.problem).toContain('invalid signature');
    expect(checkpointProblem({ ...cp, at: '2030-01-01T00:00:00.000Z' }, key, chainOk)?.problem).toContain('invalid signature');
    expect(checkpointProblem({ ...cp, signature: 'AAAA' }, key, chainOk)?.problem).toContain('invalid signature');
    const other = generateKeyPairSync('ed25519');
    const foreign = signCheckpoint({ seq: 4, hash: c[3]!.hash, at: cp.at }, other.privateKey, keyIdOf(other.publicKey));
    expect(checkpointProblem(foreign, key, chainOk)?.problem).toContain(`signed by key ${keyIdOf(other.publicKey)}, not by this server's key ${key.keyId}`);
    // The key id is not trusted on its own: a foreign signature under our id is invalid.
    expect(checkpointProblem({ ...foreign, keyId: key.keyId }, key, chainOk)?.problem).toContain('invalid signature');
  });
  it('parse back only what has a checkpoint\'s shape', () => {
    expect(parseCheckpoint(JSON.parse(JSON.stringify(cp)))).toEqual(cp);
    for (const bad of [null, 'x', { ...cp, seq: 0 }, { ...cp, seq: '4' }, { ...cp, hash: 'abc' }, { ...cp, signature: undefined }]) expect(parseCheckpoint(bad)).toBeNull();
  });
});
