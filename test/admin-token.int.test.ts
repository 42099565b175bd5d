/**
 * Administration can be lost neither by accident nor for good, on both backends: a second
 * server sharing the data dir never overwrites `admin.token`; `steward admin reset-token` (the
 * real binary, with the database and no server or token) makes a new admin token, audited; the
 * last active admin token cannot be revoked, not even by two revocations racing.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditPage } from '../src/contracts/audit.js';
import { CreatedTokenResponse, TokenList, TokenResponse, WhoAmI } from '../src/contracts/auth.js';
import { loadConfig } from '../src/platform/config.js';
import { startServer } from '../src/server/main.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { BACKENDS, dropSchema, PG_URL, type TestServer } from './helpers/test-server.js';
import { expectBody, expectError, serveSuite, uid, type Api } from './helpers/test-api.js';

describe.each(BACKENDS)('the admin token on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  serveSuite(backend, (s, a) => ((server = s), (api = a)));

  const tokenFile = () => path.join(server.dataDir, 'admin.token');

  it('a second server on another database but the same data dir leaves admin.token alone and shows its own token once', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-second-'));
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const config = loadConfig({
      env: { STEWARD_DATABASE_URL: backend === 'sqlite-fs' ? `sqlite:${path.join(other, 'steward.db')}` : undefined, STEWARD_BLOB_URL: `file:${path.join(other, 'blobs')}` },
      flags: { dataDir: server.dataDir, port: 0 },
      overrides: { logLevel: 'silent', ...(backend === 'postgres-s3' ? { database: { kind: 'postgres' as const, url: PG_URL, schema } } : {}) },
    });
    const second = await startServer({ config });
    try {
      expect(second.bootstrapToken?.file).toBeNull();
      expect(second.adminTokenFile).toBe(tokenFile());
      expect(fs.readFileSync(tokenFile(), 'utf8').trim()).toBe(server.token);
      // Each token works on its own server only.
      const whoami = (url: string, token: string) => fetch(`${url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect((await whoami(second.url, second.bootstrapToken!.token)).status).toBe(200);
      expect((await whoami(server.url, server.token)).status).toBe(200);
      expect((await whoami(second.url, server.token)).status).toBe(401);
    } finally {
      await second.close();
      if (backend === 'postgres-s3') await dropSchema(schema);
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('steward admin reset-token creates a working admin token from the database alone, audited', async () => {
    const env = cliEnv(server.url);
    const db = server.config.database;
    const args =
      db.kind === 'sqlite'
        ? ['admin', 'reset-token', '--data', server.dataDir, '--json']
        : // The test's private schema travels in the URL, as an operator's search_path would.
          ['admin', 'reset-token', '--database-url', `${db.url}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`, '--json'];
    const res = await runCli(args, env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const created = CreatedTokenResponse.extend({ file: TokenResponse.shape.name.nullable() }).parse(JSON.parse(res.stdout));
    expect(created).toMatchObject({ name: 'admin-recovery', role: 'admin', expiresAt: null, namespaces: null });
    if (db.kind === 'sqlite') {
      // With a data dir, admin.token now holds the new secret, readable by its owner only.
      expect(created.file).toBe(tokenFile());
      expect(fs.readFileSync(tokenFile(), 'utf8').trim()).toBe(created.token);
      expect(fs.statSync(tokenFile()).mode & 0o777).toBe(0o600);
    } else {
      // A database named alone has no data dir: the secret is printed only.
      expect(created.file).toBeNull();
      expect(fs.readFileSync(tokenFile(), 'utf8').trim()).toBe(server.token);
    }
    expect(expectBody(await api.get('/api/v1/whoami', { token: created.token }), 200, WhoAmI)).toMatchObject({ role: 'admin', tokenId: created.id });
    const events = expectBody(await api.get('/api/v1/audit?action=token.recover'), 200, AuditPage).items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ target: `token:${created.id}`, actor: expect.stringMatching(/^reset-token:/) });

    // Pointed at a directory with no database, it says so and creates nothing there.
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-empty-'));
    const none = await runCli(['admin', 'reset-token', '--data', empty], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no Steward database at/);
    expect(fs.readdirSync(empty)).toEqual([]);
  });

  it('refuses to revoke the last active admin token with 409 and a hint, even when two revocations race', async () => {
    const me = expectBody(await api.get('/api/v1/whoami'), 200, WhoAmI);
    // A namespace-limited admin cannot manage tokens: it does not count as an admin left.
    expectBody(await api.post('/api/v1/tokens', { name: `ns-admin-${uid()}`, role: 'admin', namespaces: ['team'] }), 201, CreatedTokenResponse);
    const active = expectBody(await api.get('/api/v1/tokens'), 200, TokenList).items.filter((t) => t.role === 'admin' && t.namespaces === null && t.revokedAt === null);
    for (const t of active) if (t.id !== me.tokenId) expectBody(await api.del(`/api/v1/tokens/${t.id}`), 200, TokenResponse);

    const err = expectError(await api.del(`/api/v1/tokens/${me.tokenId}`), 409, 'conflict');
    expect(err.message).toMatch(/last active admin token.*steward token create/);
    expect(err.details?.hint).toMatch(/steward admin reset-token/);
    expectBody(await api.get('/api/v1/whoami'), 200, WhoAmI);

    // Two admins, each revoked by a request at the same time: exactly one revocation wins.
    const other = expectBody(await api.post('/api/v1/tokens', { name: `admin-${uid()}`, role: 'admin', expiresIn: 'never' }), 201, CreatedTokenResponse);
    const raced = await Promise.all([api.del(`/api/v1/tokens/${me.tokenId}`), api.del(`/api/v1/tokens/${other.id}`, { token: other.token })]);
    expect(raced.map((r) => r.status).sort()).toEqual([200, 409]);
    const left = expectBody(await api.get('/api/v1/tokens', { token: raced[0]!.status === 200 ? other.token : server.token }), 200, TokenList).items;
    expect(left.filter((t) => t.role === 'admin' && t.namespaces === null && t.revokedAt === null)).toHaveLength(1);
  });
});

describe('token lifetimes through the CLI', () => {
  let server: TestServer;
  serveSuite('sqlite-fs', (s) => (server = s));

  it('refuses a zero or absurd --expires and makes a never-expiring token only when asked', async () => {
    const env = cliEnv(server.url, server.token);
    for (const expires of ['0d', '0s', '3651d']) {
      const res = await runCli(['token', 'create', '--name', `t-${uid()}`, '--role', 'viewer', '--expires', expires], env);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^error: invalid_argument: .*(longer than zero|at most 3650d).*"never"/);
    }
    const never = await runCli(['token', 'create', '--name', `t-${uid()}`, '--role', 'viewer', '--expires', 'never'], env);
    expect(never.code).toBe(0);
    expect(never.stderr).toMatch(/never expires/);
    const dflt = await runCli(['token', 'create', '--name', `t-${uid()}`, '--role', 'viewer', '--json'], env);
    const t = CreatedTokenResponse.parse(JSON.parse(dflt.stdout));
    expect((Date.parse(t.expiresAt!) - Date.parse(t.createdAt)) / 86_400_000).toBe(90);
  });
});
