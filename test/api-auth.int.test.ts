/**
 * The API's front door, on both backends: bearer tokens (missing, malformed, unknown,
 * revoked, under-privileged), the public endpoints (/healthz, /readyz, /metrics in the
 * Prometheus text format) and the OpenAPI document, whose every operation must be served.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AssetPage, VersionPage } from '../src/contracts/assets.js';
import { CreatedTokenResponse, TokenList, TokenResponse, WhoAmI } from '../src/contracts/auth.js';
import { BACKENDS, type TestServer } from './helpers/test-server.js';
import { createModel, expectBody, expectError, modelPath, uid, type Api, serveSuite } from './helpers/test-api.js';

/** One line of the Prometheus text exposition format (0.0.4): a comment, or `name{labels} value [timestamp]`. */
const PROM_LINE = /^(#.*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?\d+)?)$/;

describe.each(BACKENDS)('auth and public endpoints on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  serveSuite(backend, (s, a) => ((server = s), (api = a)));

  it('answers 401 with the error envelope when no token is sent, and changes nothing', async () => {
    const name = `anon-${uid()}`;
    expectError(await api.get('/api/v1/models', { token: null }), 401, 'unauthenticated');
    expectError(await api.post('/api/v1/models', { name }, { token: null }), 401, 'unauthenticated');
    expectError(await api.call('PUT', `/api/v1/blobs/${'a'.repeat(64)}`, { bytes: 'x', token: null }), 401, 'unauthenticated');
    expectError(await api.get(modelPath(name)), 404, 'not_found');
  });

  it('answers 401 for a malformed, unknown or revoked token', async () => {
    const unknown = `stw_${randomBytes(32).toString('base64url')}`;
    for (const authorization of ['Bearer', 'Bearer nonsense', `Basic ${Buffer.from('admin:admin').toString('base64')}`, `Bearer ${unknown}`, `Bearer ${server.token}x`]) {
      expectError(await api.get('/api/v1/models', { headers: { authorization } }), 401, 'unauthenticated');
    }
    const created = expectBody(await api.post('/api/v1/tokens', { name: `temp-${uid()}`, role: 'viewer' }), 201, CreatedTokenResponse);
    expectBody(await api.get('/api/v1/models', { token: created.token }), 200, AssetPage);
    expectBody(await api.del(`/api/v1/tokens/${created.id}`), 200, TokenResponse);
    expectError(await api.get('/api/v1/models', { token: created.token }), 401, 'unauthenticated');
  });

  it('gives tokens a bounded lifetime: 90 days unless told, "never" only when asked; zero or absurd lifetimes are 400', async () => {
    const create = (extra: Record<string, unknown>) => api.post('/api/v1/tokens', { name: `life-${uid()}`, role: 'viewer', ...extra });
    const days = (t: { createdAt: string; expiresAt: string | null }) => (Date.parse(t.expiresAt!) - Date.parse(t.createdAt)) / 86_400_000;
    for (const expiresIn of ['0s', '0d', '-1d', '1.5d', '3651d', '99999999999999999999d', '1y', '', 'Never']) {
      const err = expectError(await create({ expiresIn }), 400, 'invalid_argument');
      expect(err.message).toMatch(/lifetime|never/);
    }
    expect(days(expectBody(await create({}), 201, CreatedTokenResponse))).toBe(90);
    expect(days(expectBody(await create({ expiresIn: '30d' }), 201, CreatedTokenResponse))).toBe(30);
    expect(days(expectBody(await create({ expiresIn: '3650d' }), 201, CreatedTokenResponse))).toBe(3650);
    const forever = expectBody(await create({ expiresIn: 'never' }), 201, CreatedTokenResponse);
    expect(forever.expiresAt).toBeNull();
    expectBody(await api.get('/api/v1/whoami', { token: forever.token }), 200, WhoAmI);
    // Nothing was created by the refused requests.
    const names = (expectBody(await api.get('/api/v1/tokens'), 200, TokenList)).items.filter((t) => t.name.startsWith('life-'));
    expect(names).toHaveLength(4);
  });

  it('lets a viewer read but not write (403)', async () => {
    const name = `view-${uid()}`;
    await createModel(api, name);
    const viewer = expectBody(await api.post('/api/v1/tokens', { name: `viewer-${uid()}`, role: 'viewer' }), 201, CreatedTokenResponse);
    // whoami lists what the role allows, so a client (the web UI) shows only what the token may do.
    expect(expectBody(await api.get('/api/v1/whoami', { token: viewer.token }), 200, WhoAmI)).toMatchObject({ role: 'viewer', tokenId: viewer.id, permissions: ['authenticated', 'asset:read'] });
    expect((await api.get(modelPath(name), { token: viewer.token })).status).toBe(200);
    expectError(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files: [] }, { token: viewer.token }), 403, 'permission_denied');
    expectError(await api.post('/api/v1/tokens', { name: `x-${uid()}`, role: 'admin' }, { token: viewer.token }), 403, 'permission_denied');
    expect(expectBody(await api.get(`${modelPath(name)}/versions`), 200, VersionPage).items).toEqual([]);
  });

  it('serves /healthz and /readyz without a token', async () => {
    const health = await api.get('/healthz', { token: null });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', version: expect.any(String) });
    const ready = await api.get('/readyz', { token: null });
    expect(ready.status).toBe(200);
    // The gateway on this port says whether it has its route table yet.
    const gateway = expect.stringMatching(/^(ready|starting)$/);
    expect(ready.body).toEqual({ status: 'ready', checks: backend === 'sqlite-fs' ? { database: 'sqlite', blobs: 'fs', gateway } : { database: 'postgres', blobs: 's3', gateway } });
  });

  it('serves /metrics without a token in the Prometheus text format, counting API requests by route', async () => {
    await api.get('/api/v1/models');
    const res = await api.get('/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body as string;
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line).toMatch(PROM_LINE);
    expect(text).toContain('# TYPE steward_http_request_duration_seconds histogram');
    expect(text).toMatch(/steward_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/models",status="200"\} [1-9]/);
    expect(text).toContain('steward_process_cpu_seconds_total');
  });

  it('publishes an OpenAPI 3.1 document without a token, listing every route it serves', async () => {
    const res = await api.get('/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    type Op = { responses: Record<string, unknown>; security?: unknown; parameters?: { name: string; in: string }[] };
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, Op>> };
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const op of [
      'POST /api/v1/models',
      'GET /api/v1/models',
      'GET /api/v1/models/{name}',
      'POST /api/v1/models/{name}/versions',
      'GET /api/v1/models/{name}/versions',
      'GET /api/v1/models/{name}/versions/{version}',
      'PATCH /api/v1/models/{name}/versions/{version}',
      'POST /api/v1/models/{name}/versions/{version}/finalize',
      'GET /api/v1/models/{name}/versions/{version}/compare',
      'GET /api/v1/models/{name}/versions/{version}/files/{path}',
      'GET /api/v1/models/{name}/aliases',
      'GET /api/v1/models/{name}/aliases/{alias}',
      'PUT /api/v1/models/{name}/aliases/{alias}',
      'DELETE /api/v1/models/{name}/aliases/{alias}',
      'GET /api/v1/models/{name}/alias-history',
      'POST /api/v1/datasets',
      'POST /api/v1/prompts/{name}/versions',
      'PUT /api/v1/blobs/{sha256}',
      'GET /api/v1/blobs/{sha256}',
      'POST /api/v1/blobs/{sha256}/uploads',
      'GET /api/v1/uploads/{id}',
      'PATCH /api/v1/uploads/{id}',
      'POST /api/v1/uploads/{id}/complete',
      'DELETE /api/v1/uploads/{id}',
      'POST /api/v1/gc',
      'POST /api/v1/tokens',
      'POST /api/v1/evals/runs',
      'GET /api/v1/evals/runs/{id}',
      'GET /api/v1/evals/runs/{id}/results',
      'POST /api/v1/evals/runs/{id}/resume',
      'GET /api/v1/evals/compare',
      'POST /api/v1/evals/gates/evaluate',
      'GET /api/v1/evals/metrics',
    ]) {
      expect(ops).toContain(op);
    }
    // Every parameter in a path template is declared as a path parameter.
    for (const [template, methods] of Object.entries(doc.paths)) {
      const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(methods)) {
        expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort(), `${method} ${template}`).toEqual(names);
      }
    }
    // Every documented operation exists and is guarded: without a token it is a 401, never "no route".
    const sample: Record<string, string> = { name: 'm', version: '1.0.0', alias: 'champion', sha256: 'a'.repeat(64), id: '00000000-0000-4000-8000-000000000000', path: 'f.bin' };
    for (const op of ops) {
      const [method, template] = op.split(' ') as [string, string];
      const url = template.replace(/\{(\w+)\}/g, (_m, p: string) => sample[p] ?? 'x');
      const secured = doc.paths[template]![method.toLowerCase()]!.security !== undefined;
      const got = await api.call(method, url, { token: null });
      if (secured) expectError(got, 401, 'unauthenticated');
      else expect(got.status, op).not.toBe(404);
    }
  });
});
