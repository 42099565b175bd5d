/**
 * The upload queue's session transfer against a scripted server: staged chunks are announced
 * while the next one is written, and a conflict (the server holding something else, as after a
 * restart) makes it continue from the server's offset with the right bytes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UploadSessionResponse } from '../contracts/uploads.js';
import { StewardApiError, type StewardClient } from '../sdk/client.js';
import type { ByteProgress } from './progress.js';
import { SESSION_THRESHOLD, SessionMemory, UploadQueue } from './push-uploads.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-queue-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const MiB = 1 << 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A server granting a staging file per session, taking chunks of at most 1 MiB; `conflictAt` makes one announcement answer "I hold this many bytes". */
function scriptedServer(source: Buffer, conflictAt?: { announce: number; serverHolds: number }) {
  const log: string[] = [];
  let held = 0;
  let announcements = 0;
  let file = '';
  let id = '';
  const digest = sha(source);
  const session = (): UploadSessionResponse => ({
    id,
    sha256: digest,
    size: source.length,
    offset: held,
    maxChunkBytes: MiB,
    complete: false,
    stagingPath: file,
    createdAt: new Date().toISOString(),
    expiresAt: new Date().toISOString(),
  });
  const client = {
    url: 'http://127.0.0.1:1',
    createUpload: async () => {
      id = randomUUID();
      file = path.join(dir, id);
      fs.writeFileSync(file, '', { mode: 0o600 });
      return session();
    },
    stageUpload: async (_id: string, at: number, length: number) => {
      announcements++;
      log.push(`staged ${at}+${length}`);
      if (conflictAt && announcements === conflictAt.announce) {
        held = conflictAt.serverHolds;
        throw new StewardApiError(409, 'conflict', `holds ${held}`, { offset: held });
      }
      if (at !== held) throw new StewardApiError(409, 'conflict', `holds ${held}`, { offset: held });
      // The range must be in the file by the time it is announced.
      const got = Buffer.alloc(length);
      const fd = fs.openSync(file, 'r');
      fs.readSync(fd, got, 0, length, at);
      fs.closeSync(fd);
      expect(got.equals(source.subarray(at, at + length))).toBe(true);
      held += length;
      // Answer once the next chunk is in the file (or after a second): the next chunk is written
      // while the server takes this one in, so a queue that waited for the answer first would
      // leave the file one chunk short here.
      const next = Math.min(at + 2 * length, source.length);
      for (const until = Date.now() + 1000; fs.statSync(file).size < next && Date.now() < until; ) await new Promise((r) => setTimeout(r, 2));
      log.push(`answered ${at}+${length} with ${fs.statSync(file).size} bytes written`);
      return session();
    },
    completeUpload: async () => {
      log.push('complete');
      expect(held).toBe(source.length);
      expect(sha(fs.readFileSync(file))).toBe(digest);
      return { sha256: digest, size: source.length, created: true };
    },
  };
  return { client: client as unknown as StewardClient, log };
}

function bar(): ByteProgress & { shown: number } {
  const b = { shown: 0, add: (n: number) => void (b.shown += n), grow: () => undefined, stop: () => undefined };
  return b;
}

async function pushOne(source: Buffer, server: ReturnType<typeof scriptedServer>) {
  const abs = path.join(dir, `src-${randomUUID()}.bin`);
  fs.writeFileSync(abs, source);
  const progress = bar();
  const queue = new UploadQueue(server.client, new SessionMemory(path.join(dir, `uploads-${randomUUID()}.json`)), progress, undefined, true);
  queue.offer({ path: 'big.bin', abs, size: source.length, sha256: sha(source) });
  await queue.drained();
  return { queue, progress };
}

describe('UploadQueue session transfer through a staging file', () => {
  // Just over the session threshold, with an unaligned tail: 65 chunks of 1 MiB and a bit.
  const source = Buffer.concat([randomBytes(MiB), Buffer.alloc(SESSION_THRESHOLD - MiB, 7), randomBytes(12_345)]);

  it('announces every chunk once, in order, and completes', async () => {
    const server = scriptedServer(source);
    const { queue, progress } = await pushOne(source, server);
    const staged = server.log.filter((l) => l.startsWith('staged'));
    expect(staged).toHaveLength(Math.ceil(source.length / MiB));
    expect(staged[0]).toBe(`staged 0+${MiB}`);
    expect(server.log).toContain(`answered 0+${MiB} with ${2 * MiB} bytes written`);
    expect(server.log.at(-1)).toBe('complete');
    expect(queue.uploadedBytes).toBe(source.length);
    expect(progress.shown).toBe(source.length);
  });

  it('after a conflict continues from the offset the server holds, rewriting from there', async () => {
    const server = scriptedServer(source, { announce: 10, serverHolds: 3 * MiB });
    const { progress } = await pushOne(source, server);
    const staged = server.log.filter((l) => l.startsWith('staged'));
    // The 10th announcement was refused; the next one starts where the server said it was.
    expect(staged[10]).toBe(`staged ${3 * MiB}+${MiB}`);
    expect(server.log.at(-1)).toBe('complete');
    expect(progress.shown).toBe(source.length);
  });
});
