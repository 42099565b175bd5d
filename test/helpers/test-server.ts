/**
 * Starts a real control plane on a free port for a test: fresh data dir, and either the
 * embedded backends (SQLite + filesystem) or the scale-out ones (PostgreSQL in a private
 * schema + S3 through s3rver on loopback).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import S3rver from 's3rver';
import type { Clock } from '../../src/platform/clock.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { startServer, type RunningServer } from '../../src/server/main.js';

export type Backend = 'sqlite-fs' | 'postgres-s3';
export const BACKENDS: Backend[] = ['sqlite-fs', 'postgres-s3'];
export const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestServer extends RunningServer {
  token: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Drops a test's private PostgreSQL schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await admin.end();
  }
}

export async function startS3rver(dir: string, bucket: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const addr = (await s3.run()) as { address: string; port: number };
  return { endpoint: `http://127.0.0.1:${addr.port}`, close: () => s3.close() };
}

export async function startTestServer(backend: Backend = 'sqlite-fs', overrides: Partial<Config> = {}, opts: { logDestination?: NodeJS.WritableStream; clock?: Clock } = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-test-'));
  const cleanups: (() => Promise<void>)[] = [];
  let config: Config;
  if (backend === 'sqlite-fs') {
    config = loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides: { logLevel: 'silent', ...overrides } });
  } else {
    const s3 = await startS3rver(path.join(dataDir, 's3rver'), 'steward-test');
    cleanups.push(() => s3.close());
    const schema = `t_${randomBytes(6).toString('hex')}`;
    // Dropped on stop, so test runs do not pile up schemas in the shared database.
    cleanups.push(() => dropSchema(schema));
    config = loadConfig({
      env: {
        STEWARD_BLOB_URL: `s3://steward-test/${schema}`,
        // The scale-out backend keeps its audit checkpoints in the bucket too.
        STEWARD_AUDIT_CHECKPOINT_URL: `s3://steward-test/${schema}`,
        STEWARD_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      },
      flags: { dataDir, port: 0 },
      overrides: { logLevel: 'silent', database: { kind: 'postgres', url: PG_URL, schema }, ...overrides },
    });
  }
  const server = await startServer({ config, ...(opts.logDestination ? { logDestination: opts.logDestination } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  if (!server.bootstrapToken) throw new Error('fresh data dir must bootstrap an admin token');
  return {
    ...server,
    token: server.bootstrapToken.token,
    dataDir,
    async stop() {
      await server.close();
      for (const c of cleanups) await c();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
