/**
 * An S3 store that cannot serve says which bucket and why (issue 11, item 16): a missing bucket
 * stops the start with the reason; a store that goes away answers 503 `store_unavailable`
 * (uploads, downloads and /readyz), never 500 "UnknownError". And the AWS SDK's notice about
 * future Node versions is not printed to users.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorEnvelope } from '../src/contracts/errors.js';
import { loadConfig } from '../src/platform/config.js';
import { startServer, type RunningServer } from '../src/server/main.js';
import { apiClient, blob, createModel, expectError, pushVersion, versionPath } from './helpers/test-api.js';
import { startS3rver } from './helpers/test-server.js';

const BUCKET = 'steward-up';
let dir: string;
let s3: { endpoint: string; close(): Promise<void> };

function s3Config(bucket: string, dataDir: string) {
  return loadConfig({
    env: { STEWARD_BLOB_URL: `s3://${bucket}/t`, STEWARD_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    flags: { dataDir, port: 0 },
    overrides: { logLevel: 'silent' },
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-s3-down-'));
  s3 = await startS3rver(path.join(dir, 's3rver'), BUCKET);
});
afterAll(async () => {
  await s3?.close().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('an S3 store that cannot serve', () => {
  it('refuses to start on a missing bucket, naming it and what to do', async () => {
    const dataDir = fs.mkdtempSync(path.join(dir, 'data-'));
    const started = startServer({ config: s3Config('no-such-bucket', dataDir) });
    await expect(started).rejects.toMatchObject({ code: 'store_unavailable', details: { bucket: 'no-such-bucket', reason: 'does not exist' } });
    await expect(started).rejects.toThrow(/s3 bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ does not exist; create the bucket/);
  });

  describe('when the store stops while the server runs', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ config: s3Config(BUCKET, fs.mkdtempSync(path.join(dir, 'data-'))) });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('answers 503 store_unavailable naming the bucket, on /readyz, downloads and uploads', async () => {
      const api = apiClient({ url: server.url, token: server.bootstrapToken!.token });
      expect((await api.get('/readyz')).status).toBe(200);
      await createModel(api, 'down/model');
      await pushVersion(api, 'down/model', '1.0.0', { 'w.bin': blob('weights') });
      await s3.close();

      const ready = await api.get('/readyz', { token: null });
      expect(ready.status).toBe(503);
      const readyErr = ErrorEnvelope.parse(ready.body).error;
      expect(readyErr.code).toBe('store_unavailable');
      expect(readyErr.message).toMatch(new RegExp(`not ready: blob store unavailable: s3 bucket "${BUCKET}" at http://127\\.0\\.0\\.1:\\d+ cannot be reached`));

      const download = expectError(await api.get(`${versionPath('down/model', '1.0.0')}/files/w.bin`), 503, 'store_unavailable');
      expect(download.message).toContain(`"${BUCKET}"`);
      expect(download.details).toMatchObject({ bucket: BUCKET });
      const upload = blob('new bytes');
      const put = expectError(await api.call('PUT', `/api/v1/blobs/${upload.sha256}`, { bytes: upload.bytes }), 503, 'store_unavailable');
      expect(put.message).toMatch(/cannot be reached/);
    });
  });
});

describe('the AWS SDK on Node 20', () => {
  it('prints no Node version notice when the S3 store is created', () => {
    const src = path.resolve(import.meta.dirname, '../src/platform/blob/blob-s3.ts');
    const script = `import { createS3BlobStore } from ${JSON.stringify(src)};
      const s = createS3BlobStore({ kind: 's3', bucket: 'b', prefix: '', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true });
      await s.close();
      process.stdout.write('created');`;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
    expect(res.stdout).toBe('created');
    expect(res.stderr).not.toMatch(/NodeVersionSupportWarning|will require node/);
  });
});
