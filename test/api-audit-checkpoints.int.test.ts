/**
 * Signed checkpoints of the audit head, on both backends (SQLite + a checkpoint file in the data
 * dir; PostgreSQL + checkpoint objects in S3). An attacker with SQL access who truncates the tail
 * and rewrites the head, wipes both tables, or recomputes the whole chain is caught by `verify`
 * once a checkpoint covers the events; a forged checkpoint is caught by its signature; the
 * writer never signs a chain that no longer extends the last checkpoint. Each test that tampers
 * puts the tables back as they were.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditVerifyResponse } from '../src/contracts/audit.js';
import { openCheckpointStore } from '../src/features/audit/audit-checkpoint-store.js';
import { eventHash, signCheckpoint } from '../src/features/audit/audit-fns.js';
import { StewardClient } from '../src/sdk/client.js';
import { rawSql, type RawSql } from './helpers/raw-sql.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

type Row = Record<string, unknown> & { seq: number; hash: string };

describe.each(BACKENDS)('audit checkpoints (%s)', (backend) => {
  let server: TestServer;
  let client: StewardClient;
  let db: RawSql;
  const verify = async () => AuditVerifyResponse.parse(await client.verifyAudit());
  const mutate = async (n: number) => {
    for (let i = 0; i < n; i++) await client.createAsset('model', { name: `cp/m-${Math.random().toString(36).slice(2, 10)}` });
  };
  const events = async (): Promise<Row[]> => (await db.rows<Row>('select * from audit_events order by seq')).map((r) => ({ ...r, seq: Number(r.seq) }));
  const setHead = (seq: number, hash: string) => db.exec('update audit_head set seq = $1, hash = $2 where id = 1', [seq, hash]);
  /** Puts both tables back as `rows` (and the head at their end). */
  const restore = async (rows: Row[]) => {
    await db.exec('delete from audit_events');
    await db.exec('delete from audit_head');
    for (const row of rows) {
      const cols = Object.keys(row);
      await db.exec(`insert into audit_events (${cols.join(',')}) values (${cols.map((_, i) => `$${i + 1}`).join(',')})`, cols.map((c) => row[c]));
    }
    const last = rows.at(-1)!;
    await db.exec('insert into audit_head (id, seq, hash) values (1, $1, $2)', [last.seq, last.hash]);
  };
  /** Makes events and signs a checkpoint covering all of them; returns the events. */
  const checkpointed = async () => {
    await mutate(3);
    const out = await server.services.audit.checkpoint();
    const rows = await events();
    expect(out).toEqual({ written: expect.objectContaining({ seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash }) });
    return rows;
  };

  beforeAll(async () => {
    server = await startTestServer(backend);
    client = new StewardClient({ url: server.url, token: server.token });
    db = await rawSql(server.config);
  });
  afterAll(async () => {
    await db?.close();
    await server?.stop();
  });

  it('passes on an untouched trail and names the checkpoint it was compared with', async () => {
    const rows = await checkpointed();
    const res = await verify();
    expect(res).toMatchObject({ ok: true, firstBad: null, events: rows.length, checkpoint: { seq: rows.length } });
    expect(res.checkpoint!.location).toMatch(backend === 'sqlite-fs' ? /^file:.*audit-checkpoints\.jsonl$/ : /^s3:\/\/steward-test\/t_[0-9a-f]+\/audit-checkpoints\/$/);
    // Nothing moved: nothing new to sign.
    expect(await server.services.audit.checkpoint()).toEqual({ unchanged: expect.objectContaining({ seq: rows.length }) });
  });

  it('catches a tail truncated together with the head, and signs nothing over it', async () => {
    const rows = await checkpointed();
    const keep = rows.length - 2;
    await db.exec('delete from audit_events where seq > $1', [keep]);
    await setHead(keep, rows[keep - 1]!.hash);
    const res = await verify();
    expect(res.ok).toBe(false);
    expect(res.firstBad).toMatchObject({ seq: keep + 1, problem: expect.stringMatching(/log ends at event \d+ but the signed checkpoint .* records \d+ events/) });
    // The writer refuses to anchor the rewound head, so the next verify still sees it.
    expect(await server.services.audit.checkpoint()).toEqual({ refused: expect.stringContaining(`the head is at event ${keep}`) });
    await mutate(1); // the rewound log grows again past the checkpoint's seq: still not signed
    expect(await server.services.audit.checkpoint()).toHaveProperty('refused');
    expect((await verify()).ok).toBe(false);
    await restore(rows);
    expect((await verify()).ok).toBe(true);
  });

  it('catches both tables wiped', async () => {
    const rows = await checkpointed();
    await db.exec('delete from audit_events');
    await db.exec('delete from audit_head');
    const res = await verify();
    expect(res).toMatchObject({ ok: false, events: 0, firstBad: { seq: 1, problem: expect.stringContaining('log wiped') } });
    expect(await server.services.audit.checkpoint()).toEqual({ refused: expect.stringContaining('the log is empty') });
    await restore(rows);
    expect((await verify()).ok).toBe(true);
  });

  it('catches a chain recomputed from an edited event with a matching head', async () => {
    const rows = await checkpointed();
    let prev = rows[0]!.hash;
    for (const r of rows.slice(1)) {
      const fields = {
        seq: r.seq, at: r.at as string, actor: r.seq === 2 ? 'mallory' : (r.actor as string), tokenId: r.token_id as string | null, action: r.action as string, target: r.target as string,
        requestId: r.request_id as string | null, clientAddress: r.client_address as string | null, changeDigest: r.change_digest as string, prevHash: prev,
      };
      prev = eventHash(fields);
      await db.exec('update audit_events set actor = $1, prev_hash = $2, hash = $3 where seq = $4', [fields.actor, fields.prevHash, prev, r.seq]);
    }
    await setHead(rows.at(-1)!.seq, prev);
    const res = await verify();
    expect(res.firstBad).toMatchObject({ seq: rows.at(-1)!.seq, problem: expect.stringContaining('does not match the signed checkpoint') });
    expect(await server.services.audit.checkpoint()).toHaveProperty('refused');
    await restore(rows);
    expect((await verify()).ok).toBe(true);
  });

  it('catches a checkpoint with a forged signature or signed by another key', async () => {
    const rows = await checkpointed();
    const last = rows.at(-1)!;
    const store = await openCheckpointStore(server.config.auditCheckpoints);
    try {
      const genuine = (await store.latest())!;
      // An attacker with write access to the checkpoints but not the key.
      await store.append({ ...genuine, seq: last.seq + 5, signature: genuine.signature });
      expect((await verify()).firstBad).toMatchObject({ seq: last.seq + 5, problem: expect.stringContaining('invalid signature') });
      const other = generateKeyPairSync('ed25519').privateKey;
      await store.append(signCheckpoint({ seq: last.seq + 6, hash: last.hash, at: new Date().toISOString() }, other, 'feedfacefeedface'));
      expect((await verify()).firstBad).toMatchObject({ seq: last.seq + 6, problem: expect.stringContaining('signed by key feedfacefeedface') });
    } finally {
      store.close();
    }
    // A genuine checkpoint past the forged ones makes the trail verifiable again.
    await mutate(7);
    expect(await server.services.audit.checkpoint()).toHaveProperty('written');
    expect((await verify()).ok).toBe(true);
  });

  it('does not see a rewind of events after the last checkpoint (documented limit)', async () => {
    const rows = await checkpointed();
    await mutate(2);
    const after = await events();
    await db.exec('delete from audit_events where seq > $1', [rows.length]);
    await setHead(rows.length, rows.at(-1)!.hash);
    expect(await verify()).toMatchObject({ ok: true, checkpoint: { seq: rows.length } });
    await restore(after);
  });

  // On the file store only: taking this test's S3 server down would end the other tests' store too.
  it.skipIf(backend !== 'sqlite-fs')('answers 503 when the checkpoints cannot be read, never "intact"', async () => {
    const cfg = server.config.auditCheckpoints;
    if (cfg.kind !== 'file') throw new Error('expected the file store');
    fs.renameSync(cfg.path, `${cfg.path}.away`);
    fs.mkdirSync(cfg.path);
    try {
      const res = await fetch(`${server.url}/api/v1/audit/verify`, { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'unavailable', message: expect.stringContaining(`the audit checkpoints at file:${cfg.path} cannot be read`) } });
    } finally {
      fs.rmdirSync(cfg.path);
      fs.renameSync(`${cfg.path}.away`, cfg.path);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('keeps its key 0600 in the data dir and checkpoints the head when the server stops', async () => {
    expect(fs.statSync(path.join(server.dataDir, 'audit-checkpoint.key')).mode & 0o777).toBe(0o600);
    if (server.config.auditCheckpoints.kind === 'file') expect(fs.statSync(server.config.auditCheckpoints.path).mode & 0o777).toBe(0o600);
    await mutate(1);
    const head = (await events()).at(-1)!;
    await server.close();
    const store = await openCheckpointStore(server.config.auditCheckpoints);
    try {
      expect(await store.latest()).toMatchObject({ seq: head.seq, hash: head.hash });
    } finally {
      store.close();
    }
  });
});
