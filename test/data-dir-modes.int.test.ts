/**
 * Who can read the data dir: after real use (a version pushed by PUT and by an upload session,
 * a session left open, the WAL in place) under the usual umask 022, every directory Steward
 * made is 0700 and every file 0600, or 0750 / 0640 with `dataDirGroupAccess`; an existing data
 * dir others could read is tightened at start, with a warning naming it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadSessionResponse } from '../src/contracts/uploads.js';
import { loadConfig, type Config } from '../src/platform/config.js';
import { startServer } from '../src/server/main.js';
import { apiClient, createModel, expectBody, pushVersion, randomBlob, uid, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer } from './helpers/test-server.js';

let umask: number;
beforeAll(() => {
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
});

/** Every entry under `dir` (itself included) with its permission bits, skipping `skip` (the test's own s3rver files). */
function modesUnder(dir: string, skip: string[] = []): Map<string, number> {
  const out = new Map<string, number>([['.', fs.statSync(dir).mode & 0o777]]);
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.includes(r)) continue;
      out.set(r, fs.lstatSync(path.join(dir, r)).mode & 0o777);
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

function expectModes(found: Map<string, number>, dirMode: number, fileMode: number, dir: string): void {
  for (const [rel, mode] of found) {
    const isDir = fs.statSync(path.join(dir, rel)).isDirectory();
    expect(`${rel} ${mode.toString(8)}`).toBe(`${rel} ${(isDir ? dirMode : fileMode).toString(8)}`);
  }
}

/** Real use: a version whose small blob came by PUT and large one by a session, plus a session left open. */
async function use(api: Api): Promise<void> {
  const name = `modes-${uid()}`;
  await createModel(api, name);
  await pushVersion(api, name, '1.0.0', { 'config.json': randomBlob(100) });
  const big = randomBlob(200_000);
  const s = expectBody(await api.post(`/api/v1/blobs/${big.sha256}/uploads`, { size: big.size }), 201, UploadSessionResponse);
  await api.call('PATCH', `/api/v1/uploads/${s.id}`, { bytes: big.bytes, headers: { 'upload-offset': '0' } });
  expect((await api.post(`/api/v1/uploads/${s.id}/complete`)).status).toBe(201);
  const open = randomBlob(50_000);
  const o = expectBody(await api.post(`/api/v1/blobs/${open.sha256}/uploads`, { size: open.size }), 201, UploadSessionResponse);
  await api.call('PATCH', `/api/v1/uploads/${o.id}`, { bytes: open.bytes.subarray(0, 1000), headers: { 'upload-offset': '0' } });
}

async function startAt(dataDir: string, overrides: Partial<Config> = {}) {
  const lines: string[] = [];
  const logDestination = new Writable({ write: (chunk: Buffer, _e, cb) => void (lines.push(chunk.toString()), cb()) });
  const config = loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides: { logLevel: 'warn', ...overrides } });
  const server = await startServer({ config, logDestination });
  const token = server.bootstrapToken?.token ?? fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  return { server, lines, api: apiClient({ url: server.url, token }) };
}

describe('data dir modes (SQLite + files)', () => {
  it('creates the data dir 0700 and every file in it 0600 under umask 022', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-modes-')), 'data');
    const { server, api } = await startAt(dataDir);
    try {
      await use(api);
      const found = modesUnder(dataDir);
      // What the check covers: the database with its WAL and SHM, blobs, sessions, the token.
      for (const f of ['steward.db', 'steward.db-wal', 'steward.db-shm', 'admin.token', 'blobs/tmp', 'blobs/uploads', 'blobs/sha256']) expect(found.has(f), f).toBe(true);
      expect([...found.keys()].filter((k) => k.startsWith('blobs/uploads/')).length).toBe(1);
      expect([...found.keys()].filter((k) => /^blobs\/sha256\/..\/[0-9a-f]{64}$/.test(k)).length).toBe(2);
      expectModes(found, 0o700, 0o600, dataDir);
    } finally {
      await server.close();
    }
  });

  it('lets the group read with dataDirGroupAccess: 0750 and 0640', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-modes-')), 'data');
    const { server, api } = await startAt(dataDir, { dataDirGroupAccess: true });
    try {
      await use(api);
      const found = modesUnder(dataDir);
      const ownerOnly = ['admin.token', 'audit-checkpoint.key', 'audit-checkpoints.jsonl'];
      expectModes(new Map([...found].filter(([k]) => !ownerOnly.includes(k))), 0o750, 0o640, dataDir);
      // The admin token and the audit checkpoint key are credentials, not data: they stay the owner's
      // (and so do the checkpoints the key signs).
      for (const f of ownerOnly) if (found.has(f)) expect(found.get(f), f).toBe(0o600);
      expect(found.get('audit-checkpoint.key')).toBe(0o600);
    } finally {
      await server.close();
    }
  });

  it('tightens an existing data dir, blob root and database that others could read, and says so', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-modes-'));
    const first = await startAt(dataDir);
    await first.server.close();
    // What an older version (or a careless copy) left: everything world-readable.
    for (const p of ['', 'blobs', 'blobs/tmp', 'blobs/uploads']) fs.chmodSync(path.join(dataDir, p), 0o755);
    fs.chmodSync(path.join(dataDir, 'steward.db'), 0o644);
    const second = await startAt(dataDir);
    try {
      await use(second.api);
      expectModes(modesUnder(dataDir), 0o700, 0o600, dataDir);
      const warned = second.lines.map((l) => (JSON.parse(l) as { msg: string }).msg).filter((m) => m.includes('readable by other users'));
      expect(warned).toContain(`${dataDir} was mode 0755, readable by other users; set to 0700`);
      expect(warned).toContain(`${path.join(dataDir, 'steward.db')} was mode 0644, readable by other users; set to 0600`);
      expect(warned).toContain(`${path.join(dataDir, 'blobs')} was mode 0755, readable by other users; set to 0700`);
    } finally {
      await second.server.close();
    }
  });
});

describe.each(BACKENDS)('data dir modes on %s', (backend) => {
  it('keeps what it writes in the data dir private', async () => {
    const server = await startTestServer(backend);
    try {
      await use(apiClient(server));
      // s3rver is the test's stand-in for S3, not Steward: its files are not under test.
      const found = modesUnder(server.dataDir, ['s3rver']);
      expect(found.get('admin.token')).toBe(0o600);
      expectModes(found, 0o700, 0o600, server.dataDir);
    } finally {
      await server.stop();
    }
  });
});
