/** The hashing thread, started from its TypeScript source here (from dist/ in the built CLI). */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HashWorker } from './hash-worker.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-hash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('HashWorker', () => {
  it('hashes files in order, reporting every byte, and streams that start from a file prefix', async () => {
    const worker = new HashWorker();
    try {
      const data = randomBytes(3 * 1024 * 1024 + 5);
      const file = path.join(dir, 'a.bin');
      fs.writeFileSync(file, data);
      let seen = 0;
      const [a, b] = await Promise.all([worker.hash(file, (n) => (seen += n)), worker.hash(file)]);
      expect([a, b]).toEqual([sha(data), sha(data)]);
      expect(seen).toBe(data.length);
      // A resumed one-pass upload: the first 1000 bytes come from the file, the rest as buffers.
      const stream = worker.stream(file, 1000);
      const rest = Buffer.allocUnsafeSlow(data.length - 1000);
      data.copy(rest, 0, 1000);
      const back = await stream.update(rest, data.length - 1000);
      expect(rest.length).toBe(0); // moved to the thread...
      expect(back.length).toBe(data.length - 1000); // ...and handed back
      expect(await stream.digest()).toBe(sha(data));
      await expect(worker.hash(path.join(dir, 'missing.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await worker.close();
    }
  });
});
