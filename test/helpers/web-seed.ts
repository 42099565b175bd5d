/**
 * Data for the web UI's end-to-end test, made through the API as a user would: a model with two
 * evaluated versions and lineage, a suite, a prompt with two versions, promotions (one waiting
 * for approval in production), external deployments with a traffic split, and tokens per role.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { AssetResponse } from '../../src/contracts/assets.js';
import { DeploymentResponse } from '../../src/contracts/deployments.js';
import { PromotionResponse } from '../../src/contracts/promotions.js';
import { StewardClient } from '../../src/sdk/client.js';
import { cliEnv, runCli, writeTree } from './cli.js';
import { jsonl, pushSuite, startRun, waitRun } from './evals-fixtures.js';
import type { FakeOpenAI } from './fake-openai.js';
import { apiClient, blob, createModel, expectBody, pushVersion, type Api } from './test-api.js';
import type { TestServer } from './test-server.js';

export const MODEL = 'acme/support-bot';
export const SUITE = 'acme/support-qa';
export const PROMPT = 'acme/support-reply';
export const DATASET = 'acme/support-tickets';

const DATASHEET = `# Support tickets

Anonymised customer tickets with the agent's final answer, for fine-tuning and evaluation.

## Collection
Exported from the help desk, January to June; personal data removed.
`;

const CARD = `# Support bot

A small instruction-tuned model that answers customer questions about orders and shipping.

## Intended use
- First-line answers in the help centre
- Drafts for human agents

## Limitations
Not for legal or medical advice. <script>alert('x')</script>

<img src="x" onerror="alert(2)"> [details](javascript:alert(3)) <iframe src="https://evil.example"></iframe>
`;

/** Ten questions; the answers listed in `wrong` come back wrong from the fake endpoint. */
const qa = (wrong: readonly number[]) =>
  jsonl(Array.from({ length: 10 }, (_, i) => ({ id: `case-${i + 1}`, input: `Where is order ${i + 1}? ANSWER: ${wrong.includes(i) ? 'Lost' : `Shipped ${i + 1}`}`, expected: `Shipped ${i + 1}` })));

export interface Seeded {
  tokens: Record<'developer' | 'approver' | 'viewer', string>;
  runs: { v1: string; v2: string };
  pendingPromotion: string;
  deployments: { stable: string; canary: string };
}

export async function seedWebData(server: TestServer, fake: FakeOpenAI): Promise<Seeded> {
  const api = apiClient(server);
  const admin = new StewardClient({ url: server.url, token: server.token });
  const tokens = {} as Seeded['tokens'];
  for (const [name, role] of [
    ['dana', 'developer'],
    ['alex', 'approver'],
    ['vic', 'viewer'],
  ] as const) {
    tokens[role] = (await admin.createToken({ name, role })).token;
  }
  const dev = apiClient({ url: server.url, token: tokens.developer });

  await createModel(api, MODEL, { description: 'Customer-support assistant for order and shipping questions', labels: { team: 'support', task: 'chat' } });
  await pushVersion(api, MODEL, '1.0.0', { 'config.json': blob('{"arch":"llama","layers":16}'), 'model.gguf': blob('weights v1 '.repeat(4000)), 'tokenizer.json': blob('{"vocab":32000}') }, {
    metadata: { architecture: 'llama', framework: 'gguf', parameters: 1_100_000_000, precision: 'q4_k_m', max_sequence_length: 4096, memory_gb: 1.2, accuracy_score: 0.82, benchmark_results: { mmlu: 0.46, hellaswag: 0.61 } },
    labels: { stage: 'baseline' },
    card: CARD,
  });
  const suiteSpec = { metrics: [{ metric: 'exact_match' }, { metric: 'f1' }, { metric: 'latency_p95' }], thresholds: [{ metric: 'exact_match', op: '>=' as const, value: 0.5 }] };
  await pushSuite(api, SUITE, '1.0.0', qa([]), suiteSpec);
  await pushVersion(api, MODEL, '1.1.0', { 'config.json': blob('{"arch":"llama","layers":16}'), 'model.gguf': blob('weights v2 '.repeat(4200)), 'tokenizer.json': blob('{"vocab":32000}'), 'generation_config.json': blob('{"temperature":0.2}') }, {
    metadata: { architecture: 'llama', framework: 'gguf', parameters: 1_100_000_000, precision: 'q5_k_m', max_sequence_length: 8192, memory_gb: 1.4, accuracy_score: 0.9, benchmark_results: { mmlu: 0.49, hellaswag: 0.63 } },
    labels: { stage: 'candidate' },
    card: CARD.replace('A small', 'A tuned'),
    lineage: { parent: `${MODEL}:1.0.0`, datasets: [`${SUITE}:1.0.0`] },
  });

  const run = async (version: string, wrong: number[]) => {
    const suiteVersion = wrong.length ? '1.1.0' : '1.0.0';
    // Another version of the suite whose listed cases the fake endpoint answers wrong: same case ids, so the runs compare.
    if (wrong.length) await pushSuite(api, SUITE, suiteVersion, qa(wrong), suiteSpec);
    const r = await waitRun(api, (await startRun(api, { suite: `${SUITE}:${suiteVersion}`, model: `${MODEL}:${version}`, endpoint: { url: fake.url }, concurrency: 2 })).id);
    expect(r.state, r.error ?? '').toBe('succeeded');
    return r.id;
  };
  const v2 = await run('1.1.0', []);
  // One wrong answer in ten: 0.9, what production's policy asks of every score.
  const v1 = await run('1.0.0', [6]);

  /** Requests a promotion and waits until its gates are checked (it completes, or waits for approval). */
  const promote = async (who: Api, model: string, to: string) => {
    let p = expectBody(await who.post('/api/v1/promotions', { model, to, comment: `ready for ${to}` }), 201, PromotionResponse);
    for (const end = Date.now() + 15_000; p.state === 'checking'; ) {
      expect(Date.now(), `promotion ${p.id} still checking`).toBeLessThan(end);
      await new Promise((r) => setTimeout(r, 50));
      p = expectBody(await api.get(`/api/v1/promotions/${p.id}`), 200, PromotionResponse);
    }
    return p;
  };
  await promote(dev, `${MODEL}:1.0.0`, 'staging');
  const first = await promote(dev, `${MODEL}:1.0.0`, 'production');
  expectBody(await apiClient({ url: server.url, token: tokens.approver }).post(`/api/v1/promotions/${first.id}/approve`, { comment: 'baseline' }), 200, PromotionResponse);
  await promote(dev, `${MODEL}:1.1.0`, 'staging');
  const pending = await promote(dev, `${MODEL}:1.1.0`, 'production');
  expect(pending.state).toBe('pending');

  const deploy = async (version: string) =>
    expectBody(await api.post('/api/v1/deployments', { model: `${MODEL}:${version}`, environment: 'staging', driver: 'external', endpoint: { url: fake.url } }), 201, DeploymentResponse).id;
  const stable = await deploy('1.0.0');
  const canary = await deploy('1.1.0');
  const traffic = await api.put(`/api/v1/traffic/${encodeURIComponent(MODEL)}/staging`, { arms: [{ deployment: stable, weight: 90 }, { deployment: canary, weight: 10 }] });
  expect(traffic.status, JSON.stringify(traffic.body)).toBe(200);

  expectBody(await api.post('/api/v1/prompts', { name: PROMPT, description: 'Reply to a customer ticket' }), 201, AssetResponse);
  const spec = (system: string) => ({
    template: { type: 'chat', messages: [{ role: 'system', content: system }, { role: 'user', content: 'Customer {{customer}} asks: {{question}}' }] },
    variables: [{ name: 'customer', type: 'string', default: 'there' }, { name: 'question', type: 'string', maxLength: 2000 }],
    modelConfig: { model: MODEL, temperature: 0.2, maxTokens: 400 },
  });
  for (const [version, system] of [
    ['1.0.0', 'You are a helpful support agent.'],
    ['1.1.0', 'You are a concise, friendly support agent for Acme. Never promise refunds.'],
  ] as const) {
    expect((await api.post(`/api/v1/prompts/${encodeURIComponent(PROMPT)}/versions`, { version, files: [], metadata: spec(system) })).status).toBe(201);
  }
  // A dataset pushed as a user would, with the CLI, which computes its statistics.
  const dir = writeTree(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-web-data-')), {
    'train.jsonl': jsonl(Array.from({ length: 40 }, (_, i) => ({ ticket: `Order ${i} has not arrived, can you check?`.repeat(1 + (i % 3)), answer: i % 7 ? `It ships on day ${i}.` : null }))),
    'test.jsonl': jsonl(Array.from({ length: 10 }, (_, i) => ({ ticket: `Where is parcel ${i}?`, answer: `Out for delivery (${i}).` }))),
    'DATASHEET.md': DATASHEET,
  });
  const pushed = await runCli(['dataset', 'push', dir, '--name', DATASET, '--version', '1.0.0', '--datasheet', path.join(dir, 'DATASHEET.md'), '--license', 'CC-BY-4.0', '--source', 'help desk export', '--no-progress'], cliEnv(server.url, server.token));
  expect(pushed.code, pushed.stderr).toBe(0);
  return { tokens, runs: { v1, v2 }, pendingPromotion: pending.id, deployments: { stable, canary } };
}

/** Registers `n` more models (with a label each), `concurrency` at a time, through the API. */
export async function seedManyModels(server: TestServer, n: number, concurrency = 16): Promise<void> {
  const api = apiClient(server);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const res = await api.post('/api/v1/models', { name: `fleet/model-${String(i).padStart(4, '0')}`, description: `Fleet model number ${i}`, labels: { fleet: 'yes', shard: String(i % 8) } });
        expect(res.status).toBe(201);
      }
    }),
  );
}
