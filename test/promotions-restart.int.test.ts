/**
 * A promotion waiting for approval survives a SIGKILL of the server: after the restart it is
 * still pending, with its gate results, and completes when approved.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvironmentResponse, PointerList, PromotionResponse } from '../src/contracts/promotions.js';
import { StewardClient } from '../src/sdk/client.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { apiClient, expectBody } from './helpers/test-api.js';

let server: ChildServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('SIGKILL while a promotion waits for approval', () => {
  it('keeps it pending across the restart; it completes when approved', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-promo-'));
    server = await startChildServer(dataDir);
    const admin = apiClient({ url: server.url, token: server.adminToken() });
    const approver = apiClient({ url: server.url, token: (await new StewardClient({ url: server.url, token: admin.token }).createToken({ name: 'bob', role: 'approver' })).token });
    await pushModel(admin, 'acme/bot', '1.0.0');
    expectBody(await admin.put('/api/v1/environments/gated', { approvals: { count: 1 } }), 200, EnvironmentResponse);
    const req = expectBody(await admin.post('/api/v1/promotions', { model: 'acme/bot:1.0.0', to: 'gated' }), 201, PromotionResponse);
    expect(req.state).toBe('pending');

    await server.kill();
    await server.restart();

    const after = expectBody(await admin.get(`/api/v1/promotions/${req.id}`), 200, PromotionResponse);
    expect(after).toMatchObject({ state: 'pending', expiresAt: req.expiresAt, gates: req.gates });
    const done = expectBody(await approver.post(`/api/v1/promotions/${req.id}/approve`, {}), 200, PromotionResponse);
    expect(done.state).toBe('completed');
    const ptr = expectBody(await admin.get('/api/v1/pointers?model=acme/bot&environment=gated'), 200, PointerList);
    expect(ptr.items[0]).toMatchObject({ version: '1.0.0', promotion: req.id });
  }, 120_000);
});
