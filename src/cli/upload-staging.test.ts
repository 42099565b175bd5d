import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRange } from './upload-transport.js';
import { openStaging } from './upload-staging.js';
import type { HashStream } from './hash-worker.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-staging-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const MiB = 1 << 20;

function stagingFile(bytes = 0): { id: string; file: string } {
  const id = randomUUID();
  const file = path.join(dir, id);
  fs.writeFileSync(file, Buffer.alloc(bytes), { mode: 0o600 });
  return { id, file };
}

describe('openStaging', () => {
  it('opens only the file the server named for this session, holding what the server took in', async () => {
    const { id, file } = stagingFile(10);
    const ok = await openStaging({ id, offset: 10, stagingPath: file });
    expect(ok).not.toBeNull();
    await ok!.close();
    expect(await openStaging({ id, offset: 0, stagingPath: null })).toBeNull();
    expect(await openStaging({ id, offset: 0, stagingPath: path.relative(process.cwd(), file) })).toBeNull();
    expect(await openStaging({ id: randomUUID(), offset: 0, stagingPath: file })).toBeNull();
    // Another host's file of that name would not hold the bytes the server took in.
    expect(await openStaging({ id, offset: 11, stagingPath: file })).toBeNull();
    const missing = randomUUID();
    expect(await openStaging({ id: missing, offset: 0, stagingPath: path.join(dir, missing) })).toBeNull();
    // Never through a symlink.
    const link = randomUUID();
    fs.symlinkSync(file, path.join(dir, link));
    expect(await openStaging({ id: link, offset: 0, stagingPath: path.join(dir, link) })).toBeNull();
  });
});

/** A hash stream on this thread (the hashing thread's module does not load under the test runner): same contract. */
function localStream(): HashStream {
  const h = createHash('sha256');
  return {
    update: async (buf, length) => {
      h.update(buf.subarray(0, length));
      return buf;
    },
    digest: async () => h.digest('hex'),
    drop: () => undefined,
  };
}

describe('StagingFile.write', () => {
  const source = path.join(dir, 'source.bin');
  const data = randomBytes(5 * MiB + 12_345);
  fs.writeFileSync(source, data);

  it('writes ranges at their own offsets, whole blocks and tails alike, and hashes every byte in order', async () => {
    const { id, file } = stagingFile();
    const staged = (await openStaging({ id, offset: 0, stagingPath: file }))!;
    const stream = localStream();
    let reported = 0;
    // A chunk of whole blocks, then one ending mid-block, then one starting unaligned.
    for (const [start, end] of [
      [0, 2 * MiB],
      [2 * MiB, 3 * MiB + 100],
      [3 * MiB + 100, data.length],
    ] as const) {
      await staged.write(new FileRange(source, start, end - start, (n) => (reported += n), stream));
    }
    await staged.close();
    expect(reported).toBe(data.length);
    expect(fs.readFileSync(file).equals(data)).toBe(true);
    expect(await stream.digest()).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('fails, naming the file, when the source is shorter than the range', async () => {
    const { id, file } = stagingFile();
    const staged = (await openStaging({ id, offset: 0, stagingPath: file }))!;
    await expect(staged.write(new FileRange(source, data.length - 10, 100))).rejects.toThrow(/source\.bin is shorter than expected/);
    await staged.close();
  });
});
