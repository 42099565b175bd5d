/**
 * One-pass pushes through the real binary: the large files of a new version are hashed as they
 * are sent, through sessions whose sha256 is declared at completion. What must hold: the server
 * stores exactly the files' bytes under their sha256; a blob the server may already hold (one
 * of the same size) is hashed first so no byte is sent twice; an interrupted one-pass upload
 * resumes from the server's offset; and the hash cache learns every file's hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { StewardClient } from '../src/sdk/client.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1 << 20;
const PushOutput = ModelVersionDocument.extend({ uploadedBytes: z.number(), resumed: z.boolean() });

let server: TestServer;
let env: CliEnv;
let sdk: StewardClient;
beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  env = cliEnv(server.url, server.token);
  sdk = new StewardClient({ url: server.url, token: server.token });
});
afterAll(async () => {
  await server?.stop();
});

/** A directory with one file above the CLI's 64 MiB session threshold and a small one. */
function modelDir(name: string, bigBytes: number): { dir: string; big: Buffer; bigSha: string; small: string } {
  const dir = path.join(env.home, name);
  fs.mkdirSync(dir, { recursive: true });
  // Random head and tail around a cheap filler: unique per test, quick to make.
  const big = Buffer.concat([randomBytes(MiB), Buffer.alloc(bigBytes - 2 * MiB, 9), randomBytes(MiB)]);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  const small = `small file of ${name}`;
  fs.writeFileSync(path.join(dir, 'small.txt'), small);
  return { dir, big, bigSha: createHash('sha256').update(big).digest('hex'), small };
}

/** The sha256 of the bytes the server stored for `sha` (read from its blob store, not through the API). */
function storedSha(sha: string): string {
  return createHash('sha256').update(fs.readFileSync(path.join(server.dataDir, 'blobs', 'sha256', sha.slice(0, 2), sha))).digest('hex');
}

/** Upload sessions started without a sha256 since `since` (their audit events name the session). */
async function undeclaredStarts(since: string): Promise<number> {
  const page = await sdk.listAudit({ action: 'upload.start', target: 'upload:*', since });
  return page.items.length;
}

/** Blob bytes the server received by `via` (put, chunk), from /metrics. */
async function receivedBytes(via: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^steward_upload_bytes_total\\{via="${via}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

describe('one-pass push', () => {
  const run = (args: string[], e: CliEnv) => runCli(args, e);
  const name = (n: string) => `one-pass/${n}`;
  // Each test's file has a size of its own: a session without a sha256 is refused while a blob has its size.

  it('sends a new version\'s large file in one pass, stores its exact bytes, and caches its hash', async () => {
    const since = new Date().toISOString();
    const via = 'chunk';
    const before = await receivedBytes(via);
    const m = modelDir(name('new'), 66 * MiB + 17);
    const push = await run(['push', m.dir, '--model', name('new'), '--version', '1.0.0', '--json'], env);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const out = PushOutput.parse(JSON.parse(push.stdout));
    expect(out).toMatchObject({ state: 'ready', uploadedBytes: m.big.length + m.small.length, resumed: false });
    expect(await undeclaredStarts(since)).toBe(1);
    expect((await receivedBytes(via)) - before).toBe(m.big.length);
    expect(storedSha(m.bigSha)).toBe(m.bigSha);
    const v = await sdk.getVersion('model', name('new'), '1.0.0', { files: true });
    expect(v.files?.find((f) => f.path === 'big.bin')).toMatchObject({ sha256: m.bigSha, size: m.big.length });

    // The hash cache learned big.bin's hash from the upload: a re-push reads nothing and sends nothing.
    const again = await run(['push', m.dir, '--model', name('new'), '--version', '1.0.1', '--json'], env);
    expect(again.code).toBe(0);
    expect(PushOutput.parse(JSON.parse(again.stdout))).toMatchObject({ state: 'ready', uploadedBytes: 0, digest: out.digest });
  });

  it('hashes first when the server holds a blob of the same size, and then sends nothing it holds', async () => {
    const m = modelDir(name('dedup'), 65 * MiB + 5);
    expect((await run(['push', m.dir, '--model', name('dedup'), '--version', '1.0.0', '--json'], env)).code).toBe(0);
    // Same bytes, new version, no hash cache: the server refuses a sha-less session for that size.
    const since = new Date().toISOString();
    const cold = { ...env, home: fs.mkdtempSync(path.join(env.home, 'cold-')) };
    const push = await run(['push', m.dir, '--model', name('dedup'), '--version', '1.0.1', '--json'], cold);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    expect(PushOutput.parse(JSON.parse(push.stdout))).toMatchObject({ state: 'ready', uploadedBytes: 0 });
    expect(await undeclaredStarts(since)).toBe(0);
  });

  it('resumes an interrupted one-pass upload from the offset the server holds', async () => {
    const m = modelDir(name('resume'), 65 * MiB + 333);
    const abs = path.join(m.dir, 'big.bin');
    // The interrupted run had started a session without a sha256, sent the first 10 MiB, and
    // noted the session under the file's identity, as the CLI does.
    const session = await sdk.createUndeclaredUpload(m.big.length);
    expect(session.sha256).toBeNull();
    await sdk.appendUpload(session.id, 0, m.big.subarray(0, 10 * MiB), 10 * MiB);
    const st = fs.statSync(abs);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const uploadsFile = path.join(env.home, 'cache', 'uploads.json');
    fs.mkdirSync(path.dirname(uploadsFile), { recursive: true });
    const before = fs.existsSync(uploadsFile) ? (JSON.parse(fs.readFileSync(uploadsFile, 'utf8')) as Record<string, string>) : {};
    fs.writeFileSync(uploadsFile, JSON.stringify({ ...before, [`${sdk.url}|file:${abs}|${key}`]: session.id }));

    const push = await run(['push', m.dir, '--model', name('resume'), '--version', '1.0.0', '--json'], env);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    expect(PushOutput.parse(JSON.parse(push.stdout))).toMatchObject({ state: 'ready', resumed: true, uploadedBytes: m.big.length + m.small.length });
    // Continued, not restarted: the session is complete and forgotten, and the bytes are right.
    await expect(sdk.getUpload(session.id)).rejects.toMatchObject({ code: 'not_found' });
    expect(JSON.parse(fs.readFileSync(uploadsFile, 'utf8'))).toEqual(before);
    expect(storedSha(m.bigSha)).toBe(m.bigSha);
  });
});
