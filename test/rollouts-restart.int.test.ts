/**
 * A control plane killed (SIGKILL) mid-rollout: after the restart the traffic split is exactly
 * the one the rollout's record says (never half-moved), and the rollout's job, taken over from
 * the dead process, carries it on to the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrafficResponse } from '../src/contracts/gateway.js';
import { RolloutResponse } from '../src/contracts/rollouts.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { pointerOf, rolloutOf, stage, waitRollout, type Stage } from './helpers/rollout-fixtures.js';
import { apiClient, expectBody } from './helpers/test-api.js';

let server: ChildServer | undefined;
let s: Stage | undefined;
afterAll(async () => {
  await server?.stop();
  await s?.close();
});

describe('SIGKILL mid-rollout', () => {
  it('resumes from the recorded step with traffic where the record says, and succeeds', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-rollout-'));
    server = await startChildServer(dataDir);
    const api = apiClient({ url: server.url, token: server.adminToken() });
    s = await stage(api);
    const weights = [20, 40, 60, 80, 100];
    const r = expectBody(await api.post('/api/v1/rollouts', { model: `${s.model}:2.0.0`, environment: s.env, spec: { strategy: 'canary', steps: weights, pause: 2, analysis: { enabled: false, intervalSeconds: 0.2 } } }), 201, RolloutResponse);
    await waitRollout(api, r.id, (x) => x.step >= 1, 60_000);

    await server.kill();
    await server.restart();

    const split = async () => expectBody(await api.get(`/api/v1/traffic/${encodeURIComponent(s!.model)}/${s!.env}`), 200, TrafficResponse).arms;
    // Traffic and record agree (read the split on both sides of the record: it did not move between).
    for (;;) {
      const before = await split();
      const ro = await rolloutOf(api, r.id);
      const after = await split();
      if (JSON.stringify(before) !== JSON.stringify(after)) continue;
      expect(ro.state).toBe('running');
      const candidate = after.find((a) => a.deployment === s!.candidateDeployment)?.weight;
      expect(candidate).toBe(weights[ro.step]);
      expect(after.find((a) => a.deployment === s!.stableDeployment)?.weight).toBe(100 - weights[ro.step]!);
      break;
    }
    const done = await waitRollout(api, r.id, (x) => x.state !== 'running', 60_000);
    expect(done.state, done.reason ?? '').toBe('succeeded');
    expect(done.timeline.filter((t) => t.kind === 'step').map((t) => t.detail.weight)).toEqual(weights);
    expect(await pointerOf(api, s.model, s.env)).toBe('2.0.0');
  }, 180_000);
});
