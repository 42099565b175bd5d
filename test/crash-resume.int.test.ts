/**
 * The server killed with SIGKILL in the middle of a 1 GiB upload: after a restart no partial
 * blob is visible, the version is still pending (never ready with a missing blob), and the
 * upload resumes from the offset the server reports and completes with a verified hash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StewardApiError, StewardClient } from '../src/sdk/client.js';
import { BIN } from './helpers/cli.js';
import { freePort } from './helpers/child-server.js';

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;
const base = randomBytes(MiB);

/** Block i of the synthetic file: the base block stamped with its index, so no two blocks are equal. */
function block(i: number): Buffer {
  const b = Buffer.from(base);
  b.writeUInt32BE(i, 0);
  return b;
}
async function* blocks(fromByte: number, onSent?: (n: number) => void): AsyncGenerator<Uint8Array> {
  for (let i = Math.floor(fromByte / MiB); i < TOTAL / MiB; i++) {
    const b = block(i);
    const chunk = i === Math.floor(fromByte / MiB) ? b.subarray(fromByte % MiB) : b;
    onSent?.(chunk.length);
    yield chunk;
  }
}


let serverLog = '';
function startUp(dataDir: string, port: number): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'up', '--data', dataDir, '--port', String(port)], {
    env: { PATH: process.env.PATH ?? '', STEWARD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
  return child;
}

async function waitHealthy(url: string): Promise<void> {
  // Generous: right after a kill the disk may still be flushing a gigabyte written by this and
  // other tests, and a restart's first fsync waits behind it on a loaded 2-core machine.
  for (let i = 0; i < 4800; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server at ${url} did not become healthy:\n${serverLog.slice(-2000)}`);
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('SIGKILL during a 1 GiB upload', () => {
  it('leaves no partial blob, keeps the version pending, and resumes to a verified ready version', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-crash-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let server = startUp(dataDir, port);
    children.push(server);
    await waitHealthy(url);
    const client = new StewardClient({ url, token: fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim() });

    const h = createHash('sha256');
    for await (const b of blocks(0)) h.update(b);
    const sha = h.digest('hex');

    await client.createAsset('model', { name: 'crash/big' });
    const created = await client.createVersion('model', 'crash/big', { version: '1.0.0', files: [{ path: 'model.bin', size: TOTAL, sha256: sha }] });
    expect(created.missing).toEqual([sha]);
    const session = await client.createUpload(sha, TOTAL);

    // Stream the whole GiB in one chunk and kill the server once ~400 MiB went out.
    let sent = 0;
    const upload = client.appendUpload(session.id, 0, blocks(0, (n) => {
      sent += n;
      if (sent >= 400 * MiB && server.exitCode === null && !server.killed) server.kill('SIGKILL');
    }), TOTAL);
    await expect(upload).rejects.toBeInstanceOf(StewardApiError);
    await new Promise<void>((r) => (server.exitCode !== null || server.signalCode ? r() : server.once('exit', () => r())));

    server = startUp(dataDir, port);
    children.push(server);
    await waitHealthy(url);

    // Nothing half-written is visible, and the version cannot be finalised.
    expect(await client.blobExists(sha)).toBe(false);
    expect((await client.getVersion('model', 'crash/big', '1.0.0')).state).toBe('pending');
    await expect(client.finalizeVersion('model', 'crash/big', '1.0.0')).rejects.toMatchObject({ code: 'conflict', details: { missing: [sha] } });
    await expect(client.getVersion('model', 'crash/big', 'latest')).rejects.toMatchObject({ code: 'not_found' });

    // The session kept what reached the disk; resume from there.
    const status = await client.getUpload(session.id);
    expect(status.offset).toBeGreaterThan(0);
    expect(status.offset).toBeLessThanOrEqual(sent);
    await client.appendUpload(session.id, status.offset, blocks(status.offset), TOTAL - status.offset);
    expect(await client.completeUpload(session.id)).toEqual({ sha256: sha, size: TOTAL, created: true });
    const ready = await client.finalizeVersion('model', 'crash/big', '1.0.0');
    expect(ready.state).toBe('ready');

    // What the server serves is exactly what was meant.
    const res = await client.downloadFile('model', 'crash/big', '1.0.0', 'model.bin');
    const back = createHash('sha256');
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) back.update(c);
    expect(back.digest('hex')).toBe(sha);
    expect(fs.readdirSync(path.join(dataDir, 'blobs', 'tmp'))).toEqual([]);

    server.kill('SIGTERM');
    await new Promise<void>((r) => server.once('exit', () => r()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 420_000);
});
