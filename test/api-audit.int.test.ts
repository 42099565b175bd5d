/**
 * The audit trail over HTTP, on both backends: every mutation leaves exactly one event in the
 * same transaction (a failed one leaves none), events carry who/what/where, filters work, and
 * `verify` catches an attacker with SQL access who edits, deletes, inserts or swaps events.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage, AuditVerifyResponse } from '../src/contracts/audit.js';
import { StewardClient } from '../src/sdk/client.js';
import { rawSql, type RawSql } from './helpers/raw-sql.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.each(BACKENDS)('audit trail (%s)', (backend) => {
  let server: TestServer;
  let client: StewardClient;
  let db: RawSql;
  const auditUrl = (q = '') => `${server.url}/api/v1/audit${q}`;
  const get = async (q = '') => AuditPage.parse(await (await fetch(auditUrl(q), { headers: { authorization: `Bearer ${server.token}` } })).json());
  const verify = async () => AuditVerifyResponse.parse(await client.verifyAudit());

  beforeAll(async () => {
    server = await startTestServer(backend);
    client = new StewardClient({ url: server.url, token: server.token });
    db = await rawSql(server.config);
  });
  afterAll(async () => {
    await db?.close();
    await server?.stop();
  });

  it('records each mutation once, with actor, target, request id and client address', async () => {
    const before = (await get('?limit=1')).items[0]?.seq ?? 0;
    const bytes = new TextEncoder().encode('audited weights');
    await client.createAsset('model', { name: 'aud/m' });
    await client.createVersion('model', 'aud/m', { version: '1.0.0', files: [{ path: 'w', size: bytes.length, sha256: sha(bytes) }] });
    await client.putBlob(sha(bytes), bytes, bytes.length);
    await client.finalizeVersion('model', 'aud/m', '1.0.0');
    const res = await fetch(`${server.url}/api/v1/models/aud%2Fm/aliases/champion`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', 'x-request-id': 'req-alias-1' },
      body: JSON.stringify({ version: '1.0.0' }),
    });
    expect(res.status).toBe(200);
    const events = (await get('?order=asc&limit=100')).items.filter((e) => e.seq > before);
    expect(events.map((e) => [e.action, e.target])).toEqual([
      ['model.create', 'model:aud/m'],
      ['model.version.create', 'model:aud/m@1.0.0'],
      ['blob.put', `blob:${sha(bytes)}`],
      ['model.version.finalize', 'model:aud/m@1.0.0'],
      ['model.alias.set', 'model:aud/m'],
    ]);
    const alias = events[4]!;
    expect(alias).toMatchObject({ actor: 'admin', requestId: 'req-alias-1', clientAddress: '127.0.0.1', change: { alias: 'champion', version: '1.0.0', previous: null } });
    expect(alias.changeDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
  });

  it('leaves no event for a mutation that failed', async () => {
    const head = (await get('?limit=1')).items[0]!.seq;
    await expect(client.createVersion('model', 'aud/m', { version: '1.0.0', files: [] })).rejects.toMatchObject({ code: 'conflict' });
    await expect(client.putBlob('0'.repeat(64), new Uint8Array([1, 2, 3]), 3)).rejects.toMatchObject({ code: 'unprocessable' });
    await expect(client.setAlias('model', 'aud/m', 'x', '9.9.9')).rejects.toMatchObject({ code: 'not_found' });
    expect((await get('?limit=1')).items[0]!.seq).toBe(head);
  });

  it('records token creation without the secret', async () => {
    const t = await client.createToken({ name: 'ci-bot', role: 'developer' });
    const [e] = (await get('?action=token.create&limit=1')).items;
    expect(e).toMatchObject({ action: 'token.create', target: `token:${t.id}`, change: { name: 'ci-bot', role: 'developer' } });
    expect(JSON.stringify(e)).not.toContain(t.token);
  });

  it('filters by actor, action prefix, target prefix and time, with cursor pages', async () => {
    expect((await get('?action=model.alias.*')).items.every((e) => e.action.startsWith('model.alias.'))).toBe(true);
    expect((await get('?target=model:aud/m*')).items.length).toBeGreaterThanOrEqual(4);
    expect((await get('?actor=nobody')).items).toEqual([]);
    expect((await get('?since=2999-01-01T00:00:00.000Z')).items).toEqual([]);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { seq: number }[]; nextCursor: string | null } = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe(1);
  });

  describe('verify', () => {
    type Row = Record<string, unknown> & { seq: number };
    const rowAt = async (seq: number) => (await db.rows<Row>('select * from audit_events where seq = $1', [seq]))[0]!;
    const restore = async (row: Row) => {
      await db.exec('delete from audit_events where seq = $1', [row.seq]);
      const cols = Object.keys(row);
      await db.exec(`insert into audit_events (${cols.join(',')}) values (${cols.map((_, i) => `$${i + 1}`).join(',')})`, cols.map((c) => row[c]));
    };

    it('passes on an untouched trail', async () => {
      const res = await verify();
      expect(res).toMatchObject({ ok: true, firstBad: null });
      expect(res.events).toBeGreaterThanOrEqual(7);
    });

    it('catches an edited event', async () => {
      const row = await rowAt(3);
      await db.exec("update audit_events set actor = 'mallory' where seq = 3");
      expect((await verify()).firstBad).toMatchObject({ seq: 3 });
      await restore(row);
      expect((await verify()).ok).toBe(true);
    });

    it('catches an edited change payload', async () => {
      const row = await rowAt(2);
      await db.exec(`update audit_events set change = '{"forged":true}' where seq = 2`);
      expect((await verify()).firstBad).toMatchObject({ seq: 2, problem: expect.stringContaining('digest') });
      await restore(row);
    });

    it('catches a deleted event', async () => {
      const row = await rowAt(4);
      await db.exec('delete from audit_events where seq = 4');
      expect((await verify()).firstBad).toMatchObject({ seq: 4, problem: expect.stringContaining('missing') });
      await restore(row);
    });

    it('catches a deleted last event through the head', async () => {
      const max = Number((await db.rows<{ max: number }>('select max(seq) as max from audit_events'))[0]!.max);
      const row = await rowAt(Number(max));
      await db.exec('delete from audit_events where seq = $1', [max]);
      expect((await verify()).firstBad).toMatchObject({ seq: Number(max) });
      await restore(row);
      expect((await verify()).ok).toBe(true);
    });

    it('catches an event inserted at the end', async () => {
      const max = Number((await db.rows<{ max: number }>('select max(seq) as max from audit_events'))[0]!.max);
      const last = await rowAt(Number(max));
      await db.exec('insert into audit_events (seq, at, actor, token_id, action, target, request_id, client_address, change_digest, change, prev_hash, hash) values ($1, $2, $3, null, $4, $5, null, null, $6, $7, $8, $9)', [
        Number(max) + 1, '2030-01-01T00:00:00.000Z', 'mallory', 'model.version.finalize', 'model:aud/m@6.6.6', '0'.repeat(64), '{}', last.hash, 'f'.repeat(64),
      ]);
      expect((await verify()).firstBad).toMatchObject({ seq: Number(max) + 1 });
      await db.exec('delete from audit_events where seq = $1', [Number(max) + 1]);
      expect((await verify()).ok).toBe(true);
    });

    it('catches two swapped events', async () => {
      const a = await rowAt(2);
      const b = await rowAt(3);
      await restore({ ...b, seq: 2 });
      await restore({ ...a, seq: 3 });
      expect((await verify()).firstBad).toMatchObject({ seq: 2 });
      await restore(a);
      await restore(b);
      expect((await verify()).ok).toBe(true);
    });
  });
});
