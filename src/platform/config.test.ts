import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPoolSize, loadConfig } from './config.js';

const dataDir = path.join(os.tmpdir(), 'steward-config-test');

describe('loadConfig', () => {
  it('defaults to SQLite and files in the data dir, with direct I/O allowed', () => {
    const c = loadConfig({ env: {}, flags: { dataDir } });
    expect(c.database).toEqual({ kind: 'sqlite', path: path.join(dataDir, 'steward.db') });
    expect(c.blobs).toEqual({ kind: 'fs', root: path.join(dataDir, 'blobs') });
  });

  it('takes the PostgreSQL pool size from STEWARD_DATABASE_POOL_SIZE, and names it when it is wrong', () => {
    const env = { STEWARD_DATABASE_URL: 'postgres://u@db/steward' };
    expect(loadConfig({ env, flags: { dataDir } }).database).toEqual({ kind: 'postgres', url: env.STEWARD_DATABASE_URL });
    expect(loadConfig({ env: { ...env, STEWARD_DATABASE_POOL_SIZE: '6' }, flags: { dataDir } }).database).toMatchObject({ poolSize: 6 });
    for (const bad of ['0', 'many', '2.5']) {
      expect(() => loadConfig({ env: { ...env, STEWARD_DATABASE_POOL_SIZE: bad }, flags: { dataDir } })).toThrow(/database\.poolSize/);
    }
  });

  it('keeps audit checkpoints in the data dir unless STEWARD_AUDIT_CHECKPOINT_URL names a file or an S3 prefix', () => {
    expect(loadConfig({ env: {}, flags: { dataDir } }).auditCheckpoints).toEqual({ kind: 'file', path: path.join(dataDir, 'audit-checkpoints.jsonl') });
    expect(loadConfig({ env: { STEWARD_AUDIT_CHECKPOINT_URL: 'file:/var/log/steward/cp.jsonl' }, flags: { dataDir } }).auditCheckpoints).toEqual({ kind: 'file', path: '/var/log/steward/cp.jsonl' });
    const s3 = loadConfig({ env: { STEWARD_AUDIT_CHECKPOINT_URL: 's3://locked-bucket/steward/', STEWARD_S3_ENDPOINT: 'http://minio:9000' }, flags: { dataDir } }).auditCheckpoints;
    expect(s3).toMatchObject({ kind: 's3', bucket: 'locked-bucket', prefix: 'steward', endpoint: 'http://minio:9000' });
    expect(() => loadConfig({ env: { STEWARD_AUDIT_CHECKPOINT_URL: 'https://x' }, flags: { dataDir } })).toThrow(/STEWARD_AUDIT_CHECKPOINT_URL must start with file: or s3:\/\//);
    expect(loadConfig({ env: { STEWARD_AUDIT_CHECKPOINT_KEY_FILE: '/run/secrets/cp.key' }, flags: { dataDir } }).auditCheckpointKeyFile).toBe('/run/secrets/cp.key');
  });

  it('sizes the default pool by this host\'s cores, never below 4', () => {
    expect(defaultPoolSize()).toBe(Math.max(4, 2 * os.availableParallelism()));
    expect(defaultPoolSize()).toBeGreaterThanOrEqual(4);
  });

  it('keeps the data dir to its owner unless STEWARD_DATA_DIR_GROUP_ACCESS says true, and refuses anything else', () => {
    expect(loadConfig({ env: {}, flags: { dataDir } }).dataDirGroupAccess).toBe(false);
    expect(loadConfig({ env: { STEWARD_DATA_DIR_GROUP_ACCESS: 'true' }, flags: { dataDir } }).dataDirGroupAccess).toBe(true);
    expect(loadConfig({ env: { STEWARD_DATA_DIR_GROUP_ACCESS: '0' }, flags: { dataDir } }).dataDirGroupAccess).toBe(false);
    expect(() => loadConfig({ env: { STEWARD_DATA_DIR_GROUP_ACCESS: 'group' }, flags: { dataDir } })).toThrow(/STEWARD_DATA_DIR_GROUP_ACCESS must be true or false/);
  });

  it('takes monitoring retentions as durations, and names the variable when one is wrong', () => {
    const c = loadConfig({ env: {}, flags: { dataDir } });
    expect([c.rollupMinuteRetentionSeconds, c.rollupHourRetentionSeconds, c.usageRetentionSeconds]).toEqual([7 * 86400, 90 * 86400, 7 * 86400]);
    const set = loadConfig({ env: { STEWARD_ROLLUP_MINUTE_RETENTION: '14d', STEWARD_ROLLUP_HOUR_RETENTION: '26w', STEWARD_USAGE_RETENTION: '36h' }, flags: { dataDir } });
    expect([set.rollupMinuteRetentionSeconds, set.rollupHourRetentionSeconds, set.usageRetentionSeconds]).toEqual([14 * 86400, 26 * 604800, 36 * 3600]);
    expect(() => loadConfig({ env: { STEWARD_USAGE_RETENTION: 'a week' }, flags: { dataDir } })).toThrow(/STEWARD_USAGE_RETENTION must be a duration/);
  });
});
