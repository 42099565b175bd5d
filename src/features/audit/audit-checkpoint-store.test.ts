import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileCheckpointStore, loadCheckpointKey } from './audit-checkpoint-store.js';
import { checkpointSignatureValid, signCheckpoint } from './audit-fns.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-checkpoints-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const cp = (seq: number) => ({ seq, hash: seq.toString(16).padStart(64, '0'), at: `2026-01-01T00:00:0${seq % 10}.000Z`, keyId: 'k', signature: 's' });

describe('the checkpoint file', () => {
  it('has no latest checkpoint before the first is written', async () => {
    expect(await createFileCheckpointStore(path.join(dir, 'none.jsonl')).latest()).toBeNull();
  });

  it('appends JSON lines (0600) and finds the highest seq, skipping a torn line', async () => {
    const file = path.join(dir, 'sub', 'cp.jsonl');
    const store = createFileCheckpointStore(file);
    for (const seq of [3, 7, 9]) await store.append(cp(seq));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([3, 7, 9]);
    fs.appendFileSync(file, '{"seq": 12, "hash": "ab');
    expect(await store.latest()).toEqual(cp(9));
  });

  it('is not fooled by a copy of an old checkpoint appended at the end', async () => {
    const file = path.join(dir, 'cp.jsonl');
    const store = createFileCheckpointStore(file);
    await store.append(cp(5));
    await store.append(cp(8));
    fs.appendFileSync(file, `${JSON.stringify(cp(5))}\n`);
    expect((await store.latest())?.seq).toBe(8);
  });
});

describe('the checkpoint key', () => {
  it('is created once (0600) and read back the same', () => {
    const file = path.join(dir, 'audit-checkpoint.key');
    const a = loadCheckpointKey(file, { create: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const b = loadCheckpointKey(file, { create: true });
    expect(b.keyId).toBe(a.keyId);
    expect(a.keyId).toMatch(/^[0-9a-f]{16}$/);
    const signed = signCheckpoint({ seq: 1, hash: 'a'.repeat(64), at: '2026-01-01T00:00:00.000Z' }, a.privateKey, a.keyId);
    expect(checkpointSignatureValid(signed, b.publicKey)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['audit-checkpoint.key']);
  });

  it('must exist when the operator names it, and must be ed25519', () => {
    expect(() => loadCheckpointKey(path.join(dir, 'missing.key'), { create: false })).toThrow(/cannot be read.*ed25519/);
    const rsa = path.join(dir, 'rsa.key');
    fs.writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadCheckpointKey(rsa, { create: false })).toThrow(/is a rsa key; checkpoints are signed with ed25519/);
  });
});
