/**
 * Who may do what, swept over the whole route table: every route × every role, plus a token
 * limited to one namespace, plus no token. A refusal is 401 (who are you?) or 403 (not you),
 * decided before any lookup, so a 403 never tells whether another team's model exists.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../src/contracts/auth.js';
import { ErrorEnvelope } from '../src/contracts/errors.js';
import { roleAllows } from '../src/features/auth/auth-fns.js';
import type { RouteDef } from '../src/platform/http/http-route.js';
import { StewardClient } from '../src/sdk/client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let admin: StewardClient;
const tokens: Record<string, string> = {};
const bytes = new TextEncoder().encode('permission matrix weights');
const sha = createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  // The sweep sends many refused credentials from one address: lift the limiter for this server.
  server = await startTestServer('sqlite-fs', { authFailuresPerMinute: 100_000 });
  admin = new StewardClient({ url: server.url, token: server.token });
  for (const name of ['team-a/m', 'team-b/m']) {
    await admin.createAsset('model', { name });
    await admin.createVersion('model', name, { version: '1.0.0', files: [{ path: 'w', size: bytes.length, sha256: sha }] });
    await admin.putBlob(sha, bytes, bytes.length);
    await admin.finalizeVersion('model', name, '1.0.0');
    await admin.setAlias('model', name, 'champion', '1.0.0');
    // Another model derives from each fixture, so every deletion the sweep sends (the alias above
    // goes when the sweep reaches deleteAlias) reaches its handler and is refused: they survive.
    await admin.createVersion('model', `${name}-child`, { version: '1.0.0', files: [{ path: 'w', size: bytes.length, sha256: sha }], lineage: { baseModel: `${name}:1.0.0` }, asset: {} });
    await admin.finalizeVersion('model', `${name}-child`, '1.0.0');
  }
  for (const role of ROLES) tokens[role] = (await admin.createToken({ name: `matrix-${role}`, role })).token;
  tokens.scoped = (await admin.createToken({ name: 'matrix-team-a', role: 'developer', namespaces: ['team-a'] })).token;
});
afterAll(async () => {
  await server?.stop();
});

/** A concrete request for a route, aimed at model `name`. */
function requestFor(r: RouteDef, name: string): { url: string; init: RequestInit } {
  const path = r.url
    .replace(':name', encodeURIComponent(name))
    .replace(':model', encodeURIComponent(name))
    .replace(':version', '1.0.0')
    .replace(':alias', 'champion')
    .replace(':sha256', sha)
    .replace(':id', randomUUID())
    .replace(':env', 'staging')
    .replace('*', 'w');
  const query = r.url.endsWith('/compare')
    ? `?other=${encodeURIComponent(`${name}:1.0.0`)}`
    : r.url.startsWith('/api/v1/pointers') || r.url.startsWith('/api/v1/export/') || ['/api/v1/metrics', '/api/v1/drift', '/api/v1/feedback/summary', '/api/v1/slos'].includes(r.url)
      ? `?model=${encodeURIComponent(name)}${r.url === '/api/v1/drift' ? '&environment=staging' : ''}`
      : '';
  const init: RequestInit = { method: r.method };
  if (r.rawBody) init.body = new Uint8Array(0);
  else if (r.body) {
    const bodies: Record<string, unknown> = {
      '/api/v1/gc': { dryRun: true },
      '/api/v1/evals/runs': { suite: `${name}-suite`, model: `${name}:1.0.0`, endpoint: { url: 'http://127.0.0.1:9/v1' } },
      '/api/v1/evals/gates/evaluate': { model: `${name}:1.0.0`, gates: [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 0 }] },
      '/api/v1/promotions': { model: `${name}:1.0.0`, to: 'staging' },
      '/api/v1/deployments': { model: `${name}:1.0.0`, environment: 'development', args: ['/nonexistent/server'] },
      '/api/v1/environments/:env/rollback': { model: name },
      '/api/v1/rollouts': { model: `${name}:1.0.0`, environment: 'development' },
    };
    init.body = JSON.stringify(bodies[r.url] ?? (r.method === 'POST' && /^\/api\/v1\/(models|datasets|prompts)$/.test(r.url) ? { name } : {}));
  }
  init.headers = { 'content-type': r.rawBody ? 'application/octet-stream' : 'application/json' };
  return { url: `${server.url}${path}${query}`, init };
}

/**
 * The sweep sends hundreds of requests whose socket is not the point: through Fastify's
 * `inject`, the same routing, hooks and handlers as over HTTP (the other tests here use HTTP).
 */
async function send(r: RouteDef, name: string, token?: string): Promise<number> {
  const { url, init } = requestFor(r, name);
  const res = await server.app.inject({
    method: r.method,
    url: url.slice(server.url.length),
    headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(init.body !== undefined ? { payload: typeof init.body === 'string' ? init.body : Buffer.from(init.body as Uint8Array) } : {}),
  });
  if (res.statusCode === 401 || res.statusCode === 403) ErrorEnvelope.parse(res.json());
  return res.statusCode;
}

const protectedRoutes = () => server.routes.filter((r) => r.permission !== 'public');

describe('permission matrix over the route table', () => {
  it('covers the routes (sanity: the table is not empty)', () => {
    expect(protectedRoutes().length).toBeGreaterThan(30);
  });

  it('gives the gateway role the snapshot and usage ingestion (gateway:sync) and no asset, key or token route; admin holds gateway:sync too', () => {
    const allowed = protectedRoutes().filter((r) => roleAllows('gateway', r.permission) && r.permission !== 'authenticated');
    expect(allowed.map((r) => `${r.method} ${r.url}`).sort()).toEqual(['GET /api/v1/gateway/snapshot', 'POST /api/v1/gateway/usage']);
    expect(roleAllows('admin', 'gateway:sync')).toBe(true);
    for (const role of ['viewer', 'developer', 'approver'] as const) expect(roleAllows(role, 'gateway:sync')).toBe(false);
  });

  it('answers 401 to every protected route without a token', async () => {
    for (const r of protectedRoutes()) expect([r.method, r.url, await send(r, 'team-a/m')]).toEqual([r.method, r.url, 401]);
  });

  it('lets each role through exactly the routes its permissions allow', async () => {
    const mismatches: string[] = [];
    for (const role of ROLES as readonly Role[]) {
      for (const r of protectedRoutes()) {
        const status = await send(r, 'team-a/m', tokens[role]);
        const allowed = roleAllows(role, r.permission);
        const refused = status === 403 || status === 401;
        if (allowed === refused) mismatches.push(`${role} ${r.method} ${r.url} → ${status} (allowed: ${allowed})`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('confines a namespace-limited token to its namespace without revealing what exists elsewhere', async () => {
    const mismatches: string[] = [];
    for (const r of protectedRoutes()) {
      if (!roleAllows('developer', r.permission)) continue;
      const own = await send(r, 'team-a/m', tokens.scoped);
      const foreign = await send(r, 'team-b/m', tokens.scoped);
      const ghost = await send(r, 'team-b/does-not-exist', tokens.scoped);
      const expectOwn = r.scope ? 'allowed' : 'denied';
      if ((own === 403) !== (expectOwn === 'denied')) mismatches.push(`own ${r.method} ${r.url} → ${own}`);
      if (typeof r.scope === 'function') {
        if (foreign !== 403) mismatches.push(`foreign ${r.method} ${r.url} → ${foreign}`);
        if (ghost !== 403) mismatches.push(`ghost ${r.method} ${r.url} → ${ghost}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('filters listings and searches to the granted namespaces', async () => {
    const scoped = new StewardClient({ url: server.url, token: tokens.scoped });
    expect((await scoped.listAssets('model')).items.map((a) => a.name)).toEqual(['team-a/m', 'team-a/m-child']);
    expect((await scoped.listVersions('model', '-')).items.map((v) => v.name).sort()).toEqual(['team-a/m', 'team-a/m-child']);
    expect((await admin.listVersions('model', '-')).items.map((v) => v.name).sort()).toEqual(['team-a/m', 'team-a/m-child', 'team-b/m', 'team-b/m-child']);
  });

  it('lets developers and admins delete, a namespace-limited developer only in its namespace; viewers and approvers never', async () => {
    const del = (token: string, path: string) => server.app.inject({ method: 'DELETE', url: path, headers: { authorization: `Bearer ${token}` } });
    for (const ns of ['team-a', 'team-b']) {
      for (const v of ['1.0.0', '2.0.0']) {
        await admin.createVersion('model', `${ns}/del`, { version: v, files: [{ path: 'w', size: bytes.length, sha256: sha }], asset: {} });
        await admin.finalizeVersion('model', `${ns}/del`, v);
      }
    }
    for (const role of ['viewer', 'approver'] as const) {
      expect((await del(tokens[role]!, '/api/v1/models/team-a%2Fdel/versions/1.0.0')).statusCode).toBe(403);
      expect((await del(tokens[role]!, '/api/v1/models/team-a%2Fdel')).statusCode).toBe(403);
      expect((await del(tokens[role]!, `/api/v1/evals/runs/${randomUUID()}`)).statusCode).toBe(403);
    }
    // Refused before any lookup: another namespace's model, existing or not, is a 403.
    expect((await del(tokens.scoped!, '/api/v1/models/team-b%2Fdel/versions/1.0.0')).statusCode).toBe(403);
    expect((await del(tokens.scoped!, '/api/v1/models/team-b%2Fnothing')).statusCode).toBe(403);
    expect((await del(tokens.scoped!, '/api/v1/models/team-a%2Fdel/versions/1.0.0')).statusCode).toBe(200);
    expect((await del(tokens.scoped!, '/api/v1/models/team-a%2Fdel')).statusCode).toBe(200);
    expect((await del(tokens.developer!, '/api/v1/models/team-b%2Fdel/versions/1.0.0')).statusCode).toBe(200);
    expect((await del(server.token, '/api/v1/models/team-b%2Fdel')).statusCode).toBe(200);
  });
});

describe('credentials', () => {
  const get = (token: string | undefined, header?: string) =>
    fetch(`${server.url}/api/v1/models`, { headers: header !== undefined ? { authorization: header } : token ? { authorization: `Bearer ${token}` } : {} });

  it('refuses malformed Authorization headers with 401 and the envelope', async () => {
    for (const h of ['', 'Bearer', 'Basic dXNlcjpwYXNz', `Token ${server.token}`, 'Bearer not-a-steward-token', `Bearer ${server.token} extra`]) {
      const res = await get(undefined, h);
      expect([h, res.status]).toEqual([h, 401]);
      expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('unauthenticated');
    }
  });

  it('refuses a revoked token at once', async () => {
    const t = await admin.createToken({ name: 'short-lived', role: 'viewer' });
    expect((await get(t.token)).status).toBe(200);
    await admin.revokeToken(t.id);
    const res = await get(t.token);
    expect(res.status).toBe(401);
    expect((await res.json()).error.message).toBe('token revoked');
  });
});

describe('token expiry', () => {
  it('refuses an expired token', async () => {
    const t = await admin.createToken({ name: 'one-second', role: 'viewer', expiresIn: '1s' });
    expect((await fetch(`${server.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${t.token}` } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const res = await fetch(`${server.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.message).toBe('token expired');
  });
});
