/**
 * The upload queue against a scripted server: a large file goes as a session, chunk after chunk
 * at the server's offsets; a conflict (the server holding something else, as after a restart)
 * makes it continue from the server's offset with the right bytes; progress adds up to the
 * file's size either way; small files go in one PUT each; a blob is sent once per push.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import type { UploadSessionResponse } from '../../contracts/uploads.js';
import { StewardApiError, type StewardClient } from '../client.js';
import { SessionMemory } from './push-files.js';
import { SESSION_THRESHOLD, UploadQueue, type PushProgress } from './upload-queue.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-queue-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const MiB = 1 << 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A server taking session chunks of at most 8 MiB; `conflictAt` makes one PATCH answer "I hold this many bytes". */
function scriptedServer(source: Buffer, conflictAt?: { patch: number; serverHolds: number }) {
  const log: string[] = [];
  let held: Buffer = Buffer.alloc(0);
  let patches = 0;
  const id = randomUUID();
  const session = (): UploadSessionResponse => ({
    id,
    sha256: sha(source),
    size: source.length,
    offset: held.length,
    maxChunkBytes: 8 * MiB,
    complete: false,
    createdAt: new Date().toISOString(),
    expiresAt: new Date().toISOString(),
  });
  const client = {
    url: 'http://127.0.0.1:1',
    createUpload: async () => session(),
    appendUpload: async (_id: string, at: number, body: AsyncIterable<Uint8Array>, length: number) => {
      patches++;
      log.push(`patch ${at}+${length}`);
      const bytes = await buffer(body);
      expect(bytes.length).toBe(length);
      if (conflictAt && patches === conflictAt.patch) {
        held = source.subarray(0, conflictAt.serverHolds);
        throw new StewardApiError(409, 'conflict', `holds ${held.length}`, { offset: held.length });
      }
      if (at !== held.length) throw new StewardApiError(409, 'conflict', `holds ${held.length}`, { offset: held.length });
      held = Buffer.concat([held, bytes]);
      return session();
    },
    completeUpload: async () => {
      log.push('complete');
      expect(sha(held)).toBe(sha(source));
      return { sha256: sha(source), size: source.length, created: true };
    },
    putBlob: async (digest: string, body: AsyncIterable<Uint8Array>) => {
      log.push(`put ${digest.slice(0, 8)}`);
      expect(sha(await buffer(body))).toBe(digest);
      return { sha256: digest, size: 0, created: true };
    },
  };
  return { client: client as unknown as StewardClient, log };
}

function progress() {
  const p = { uploaded: 0, planned: 0, done: [] as string[] };
  const emit = (e: PushProgress) => {
    if (e.type === 'uploaded') p.uploaded += e.bytes;
    if (e.type === 'upload-total') p.planned += e.bytes;
    if (e.type === 'blob-done') p.done.push(e.sha256);
  };
  return { p, emit };
}

function file(bytes: Buffer) {
  const abs = path.join(dir, `src-${randomUUID()}.bin`);
  fs.writeFileSync(abs, bytes);
  return { path: path.basename(abs), abs, size: bytes.length, sha256: sha(bytes) };
}

const newQueue = (client: StewardClient, emit: (e: PushProgress) => void) => new UploadQueue(client, new SessionMemory(path.join(dir, `uploads-${randomUUID()}.json`)), emit);

describe('UploadQueue', () => {
  // Just over the session threshold, with an unaligned tail.
  const source = Buffer.concat([randomBytes(MiB), Buffer.alloc(SESSION_THRESHOLD - MiB, 7), randomBytes(12_345)]);

  it('sends a large file as a session, chunk after chunk, and completes it', async () => {
    const server = scriptedServer(source);
    const { p, emit } = progress();
    const queue = newQueue(server.client, emit);
    const f = file(source);
    queue.offer(f);
    await queue.drained();
    const patches = server.log.filter((l) => l.startsWith('patch'));
    expect(patches).toHaveLength(Math.ceil(source.length / (8 * MiB)));
    expect(patches[1]).toBe(`patch ${8 * MiB}+${8 * MiB}`);
    expect(server.log.at(-1)).toBe('complete');
    expect(queue.uploadedBytes).toBe(source.length);
    expect(p).toEqual({ uploaded: source.length, planned: source.length, done: [f.sha256] });
  });

  it('after a conflict continues from the offset the server holds, resending from there', async () => {
    const server = scriptedServer(source, { patch: 4, serverHolds: 3 * MiB });
    const { p, emit } = progress();
    const queue = newQueue(server.client, emit);
    queue.offer(file(source));
    await queue.drained();
    const patches = server.log.filter((l) => l.startsWith('patch'));
    // The 4th PATCH was refused; the next one starts where the server said it was.
    expect(patches[4]).toBe(`patch ${3 * MiB}+${8 * MiB}`);
    expect(server.log.at(-1)).toBe('complete');
    expect(p.uploaded).toBe(source.length);
  });

  it('sends small files in one PUT each, and a blob offered twice once', async () => {
    const server = scriptedServer(source);
    const { p, emit } = progress();
    const queue = newQueue(server.client, emit);
    const a = file(randomBytes(1000));
    const b = file(randomBytes(2000));
    queue.offer(a);
    queue.offer(b);
    queue.offer({ ...a, path: 'copy-of-a' });
    await queue.drained();
    expect(server.log.sort()).toEqual([`put ${a.sha256.slice(0, 8)}`, `put ${b.sha256.slice(0, 8)}`].sort());
    expect(p).toMatchObject({ uploaded: 3000, planned: 3000 });
    expect(queue.uploadedBytes).toBe(3000);
  });
});
