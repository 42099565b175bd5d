/**
 * Lineage across assets: a fine-tune points at its parent model version, a base model outside the
 * registry and the dataset version it was trained on; the graph answers both "what is this built
 * from?" and "what was built from this dataset?".
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineageGraph, type AssetKind } from '../src/contracts/assets.js';
import { StewardClient } from '../src/sdk/client.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(BACKENDS)('lineage graph (%s)', (backend) => {
  let server: TestServer;
  let client: StewardClient;
  const lineage = async (kind: string, name: string, version: string, q = '') => {
    const res = await fetch(`${server.url}/api/v1/${kind}/${encodeURIComponent(name)}/versions/${version}/lineage${q}`, { headers: { authorization: `Bearer ${server.token}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  async function publish(kind: AssetKind, name: string, version: string, lineageInput?: { parent?: string; baseModel?: string; datasets?: string[] }) {
    const bytes = new TextEncoder().encode(`${kind} ${name} ${version}`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    await client.createAsset(kind, { name }).catch(() => undefined);
    await client.createVersion(kind, name, { version, files: [{ path: 'data', size: bytes.length, sha256: sha }], ...(lineageInput ? { lineage: lineageInput } : {}) });
    await client.putBlob(sha, bytes, bytes.length);
    await client.finalizeVersion(kind, name, version);
  }

  beforeAll(async () => {
    server = await startTestServer(backend);
    client = new StewardClient({ url: server.url, token: server.token });
    await publish('dataset', 'acme/support-chats', '1.0.0');
    await publish('model', 'acme/base', '1.0.0', { baseModel: 'meta-llama/Llama-3.1-8B' });
    await publish('model', 'acme/bot', '1.0.0', { parent: 'acme/base:1.0.0', datasets: ['acme/support-chats:1.0.0'] });
    await publish('model', 'acme/bot', '1.1.0', { parent: 'acme/bot:1.0.0' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('walks upstream to parents, the external base model and the dataset, and downstream to derived versions', async () => {
    const { status, body } = await lineage('models', 'acme/bot', '1.0.0');
    expect(status).toBe(200);
    const g = LineageGraph.parse(body);
    expect(g.root).toBe('model:acme/bot@1.0.0');
    const depth = Object.fromEntries(g.nodes.map((n) => [n.id, n.depth]));
    expect(depth).toEqual({
      'model:acme/bot@1.0.0': 0,
      'model:acme/base@1.0.0': -1,
      'dataset:acme/support-chats@1.0.0': -1,
      'external:meta-llama/Llama-3.1-8B': -2,
      'model:acme/bot@1.1.0': 1,
    });
    expect(g.edges).toEqual(
      expect.arrayContaining([
        { from: 'model:acme/bot@1.0.0', to: 'model:acme/base@1.0.0', relation: 'parent' },
        { from: 'model:acme/bot@1.0.0', to: 'dataset:acme/support-chats@1.0.0', relation: 'dataset' },
        { from: 'model:acme/base@1.0.0', to: 'external:meta-llama/Llama-3.1-8B', relation: 'base_model' },
        { from: 'model:acme/bot@1.1.0', to: 'model:acme/bot@1.0.0', relation: 'parent' },
      ]),
    );
    expect(g.edges).toHaveLength(4);
    expect(g.truncated).toBe(false);
  });

  it('answers which models used a dataset version', async () => {
    const g = LineageGraph.parse((await lineage('datasets', 'acme/support-chats', '1.0.0', '?direction=downstream')).body);
    expect(g.nodes.map((n) => n.id).sort()).toEqual(['dataset:acme/support-chats@1.0.0', 'model:acme/bot@1.0.0', 'model:acme/bot@1.1.0']);
  });

  it('stops at the depth limit and says so', async () => {
    const g = LineageGraph.parse((await lineage('models', 'acme/bot', '1.1.0', '?direction=upstream&depth=1')).body);
    expect(g.nodes.map((n) => n.id).sort()).toEqual(['model:acme/bot@1.0.0', 'model:acme/bot@1.1.0']);
    expect(g.truncated).toBe(true);
  });

  it('answers 404 for an unknown version and 400 for a bad depth', async () => {
    expect((await lineage('models', 'acme/bot', '9.9.9')).status).toBe(404);
    expect((await lineage('models', 'acme/bot', '1.0.0', '?depth=0')).status).toBe(400);
  });
});
