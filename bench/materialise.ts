/**
 * Materialising a 2 GB version from the filesystem store into the deployment cache (hard links),
 * against the same run's baselines: `cp -al` of the same blobs (a hard-link tree made by the
 * system tool) and `cp` of them (what copying costs). Target: under 1 s.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { materialise, type MaterialiseFile } from '../src/features/deployments/deployments-materialise.js';
import { createFsBlobStore } from '../src/platform/blob/blob-fs.js';
import { fmtBytes, fmtMs, GiB, machineLine, MiB, printTable } from './bench-fns.js';

const TOTAL = Number(process.env.BENCH_BYTES ?? 2 * GiB);
const ROUNDS = 5;

/** `size` pseudo-random bytes, produced in 8 MiB chunks (hashed as they go), as a stream and its sha256. */
function synthetic(size: number, seed: number): { stream: () => Readable; sha256: string } {
  const chunk = randomBytes(8 * MiB);
  const piece = (i: number, len: number) => {
    const b = Buffer.from(chunk.subarray(0, len));
    b.writeUInt32BE(i, 0);
    b.writeUInt32BE(seed, 4);
    return b;
  };
  const h = createHash('sha256');
  for (let off = 0, i = 0; off < size; off += chunk.length, i++) h.update(piece(i, Math.min(chunk.length, size - off)));
  return {
    sha256: h.digest('hex'),
    stream: () =>
      Readable.from(
        (function* () {
          for (let off = 0, i = 0; off < size; off += chunk.length, i++) yield piece(i, Math.min(chunk.length, size - off));
        })(),
      ),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const time = (fn: () => void | Promise<void>) => async () => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-mat-'));
  const store = createFsBlobStore({ root: path.join(root, 'blobs') });
  try {
    console.log(`materialise benchmark: a ${fmtBytes(TOTAL)} version from the filesystem store`);
    console.log(machineLine());
    // A version shaped like a model: two weight shards, a tokenizer, a config.
    const sizes: [string, number][] = [
      ['model-00001-of-00002.safetensors', Math.floor(TOTAL * 0.6)],
      ['model-00002-of-00002.safetensors', TOTAL - Math.floor(TOTAL * 0.6) - 3 * MiB],
      ['tokenizer.json', 3 * MiB - 4096],
      ['config.json', 4096],
    ];
    const files: MaterialiseFile[] = [];
    const t0 = performance.now();
    for (const [i, [p, size]] of sizes.entries()) {
      const s = synthetic(size, i);
      await store.put(s.sha256, s.stream(), { size });
      files.push({ path: p, size, sha256: s.sha256 });
    }
    console.log(`  (stored ${files.length} files in ${fmtMs(performance.now() - t0)})`);
    const digest = `sha256:${createHash('sha256').update(JSON.stringify(files)).digest('hex')}`;
    const blobs = await Promise.all(files.map(async (f) => (await store.localPath!(f.sha256))!));

    const rows: (string | number)[][] = [];
    const steward: number[] = [];
    const cpal: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const cache = path.join(root, `cache-${r}`);
      steward.push(await time(() => materialise({ store, cacheRoot: cache, digest, files }).then(() => undefined))());
      const dest = path.join(root, `cpal-${r}`);
      fs.mkdirSync(dest);
      cpal.push(await time(() => void execFileSync('cp', ['-al', ...blobs, dest]))());
    }
    const copyDest = path.join(root, 'copy');
    fs.mkdirSync(copyDest);
    const copy = await time(() => void execFileSync('cp', ['--reflink=never', ...blobs, copyDest]))();
    rows.push(['steward materialise (hard links)', fmtMs(median(steward)), fmtMs(Math.max(...steward)), '1.00×']);
    rows.push(['baseline: cp -al (hard links)', fmtMs(median(cpal)), fmtMs(Math.max(...cpal)), `${(median(steward) / median(cpal)).toFixed(2)}×`]);
    rows.push(['baseline: cp (a copy, once)', fmtMs(copy), fmtMs(copy), `${(median(steward) / copy).toFixed(3)}×`]);
    printTable(['operation', `median of ${ROUNDS}`, 'max', 'steward / it'], rows);
    const ok = median(steward) < 1000;
    console.log(`  target: ${fmtBytes(TOTAL)} materialised in under 1 s → ${ok ? 'ok' : 'MISSED'}`);
  } finally {
    await store.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
