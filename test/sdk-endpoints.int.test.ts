/**
 * Endpoints are declared once: the server serves exactly the table in contracts/endpoints.ts,
 * and the SDK's typed client reaches any of them through the same declarations.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endpointRoutesSource } from '../scripts/gen-endpoint-routes.js';
import { ENDPOINTS } from '../src/contracts/endpoints.js';
import { StewardApiError, StewardClient } from '../src/sdk/client.js';
import { serveSuite, uid } from './helpers/test-api.js';
import type { TestServer } from './helpers/test-server.js';

describe('endpoints declared once', () => {
  let server: TestServer;
  let client: StewardClient;
  serveSuite('sqlite-fs', (s) => {
    server = s;
    client = new StewardClient({ url: s.url, token: s.token });
  });

  it('serves exactly the declared endpoints, each once', () => {
    const declared = Object.values(ENDPOINTS).flatMap((group) => Object.values(group).map((e) => `${e.method} ${e.url}`));
    const served = server.routes.map((r) => `${r.method} ${r.url}`);
    expect(new Set(declared).size).toBe(declared.length);
    expect([...served].sort()).toEqual([...declared].sort());
  });

  it('calls any endpoint through its declaration, with encoded paths and typed answers', async () => {
    const name = `acme/sdk-${uid()}`;
    const created = await client.api((t) => t.models.createAsset)({ body: { name, labels: { team: 'acme' } } });
    expect(created).toMatchObject({ kind: 'model', name, labels: { team: 'acme' } });
    const got = await client.api((t) => t.models.getAsset)({ params: { name } });
    expect(got.name).toBe(name);
    const page = await client.api((t) => t.models.listAssets)({ query: { namespace: 'acme', q: 'sdk-' } });
    expect(page.items.map((a) => a.name)).toContain(name);
    const events = await client.api((t) => t.events.listEvents)({ query: { after: 0, types: 'version.*' } });
    expect(events.next).toBeGreaterThanOrEqual(0);
  });

  it('throws the API error with its code and details', async () => {
    const err = await client.api((t) => t.models.getVersion)({ params: { name: `missing-${uid()}`, version: '1.0.0' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StewardApiError);
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('the generated method and path table', () => {
  it('matches the declarations (run `npm run gen:endpoints` after changing an endpoint)', () => {
    expect(fs.readFileSync(new URL('../src/contracts/endpoint-routes.ts', import.meta.url), 'utf8')).toBe(endpointRoutesSource());
  });
});
