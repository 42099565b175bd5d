/**
 * Prompt rendering and the SDK prompt cache, measured against baselines in the same run.
 *
 * 1. Render of a 20-message chat template with 10 variables inside the server: through the
 *    prompts service (ref lookup in SQLite + compiled template from the cache + variable checks
 *    + injection scan + render), by version and by label; the engine alone; and a naive
 *    baseline (`String.replaceAll` per variable per message). Target: service p99 < 1 ms.
 * 2. The same render over HTTP (autocannon in a child process), 1 and 16 connections.
 * 3. The SDK's cached `getPrompt` on a hit, per call, against `Map.get` and an awaited settled
 *    promise held in a Map (the floor of any async API). Target: < 5 µs per hit.
 * Figures only; nothing here asserts.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindVariables, compilePrompt, renderCompiled } from '../src/contracts/prompt-template.js';
import { PromptSpec, RenderPromptBody, type PromptSpecInput } from '../src/contracts/prompts.js';
import { scanText } from '../src/features/prompts/prompts-fns.js';
import { loadConfig } from '../src/platform/config.js';
import { startServer } from '../src/server/main.js';
import { StewardClient } from '../src/sdk/client.js';
import { PromptCache } from '../src/sdk/prompt-cache.js';
import { PromptsClient } from '../src/sdk/prompts-client.js';
import { fmtInt, machineLine, percentile, printTable, verdict } from './bench-fns.js';
import type { RenderLoadRequest, RenderLoadResult } from './prompts-load.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const VARS = ['product', 'customer', 'tier', 'language', 'question', 'history', 'policy', 'date', 'agent', 'ticket'];
/** 20 messages (a system prompt, few-shot pairs, the question), each using 1-3 of the 10 variables. */
function template(): PromptSpecInput {
  const roles = ['system', 'user', 'assistant'] as const;
  const messages = Array.from({ length: 20 }, (_, i) => {
    const a = VARS[i % 10]!;
    const b = VARS[(i * 3 + 1) % 10]!;
    return {
      role: i === 0 ? ('system' as const) : roles[1 + (i % 2)]!,
      content: `Message ${i}: as the support agent for {{${a}}}, keep the tone friendly and precise.\nContext for {{${b}}} follows; cite the policy {{policy}} when it applies. Do not invent facts.`,
    };
  });
  return { template: { type: 'chat', messages }, variables: VARS.map((name) => ({ name })), modelConfig: { model: 'acme/llama:production', temperature: 0.2, maxTokens: 512 } };
}
const variables: Record<string, string> = {
  product: 'Steward Cloud',
  customer: 'Ada Lovelace',
  tier: 'enterprise',
  language: 'English',
  question: 'How do I roll back a canary that is failing its latency SLO?',
  history: 'Customer opened two tickets this month about deployment rollbacks.',
  policy: 'SLA-7: respond within 4 business hours',
  date: '2026-11-23',
  agent: 'Grace',
  ticket: 'TCK-48213',
};

interface Stats {
  p50: number;
  p99: number;
  mean: number;
}
/** Per-call latencies in µs. */
async function time(n: number, fn: () => unknown | Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < Math.min(2000, n); i++) await fn();
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs[i] = (performance.now() - t) * 1000;
  }
  const sorted = Array.from(xs).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.reduce((s, x) => s + x, 0) / n };
}
/** Mean ns per call over a tight loop (per-call timers would dwarf a ~100 ns operation). */
async function perCallNs(n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 100_000; i++) await fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t) / n) * 1e6;
}
function perCallNsSync(n: number, fn: () => unknown): number {
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += fn() ? 1 : 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) sink += fn() ? 1 : 0;
  if (sink < 0) console.log(sink);
  return ((performance.now() - t) / n) * 1e6;
}
const us = (x: number) => `${x.toFixed(1)} µs`;

async function main(): Promise<void> {
  console.log('prompts benchmark: render of a 20-message chat template with 10 variables; SDK prompt cache hits');
  console.log(machineLine());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-prompts-'));
  const config = loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides: { logLevel: 'silent' } });
  const server = await startServer({ config });
  const token = server.bootstrapToken!.token;
  const client = new StewardClient({ url: server.url, token });
  const spec = template();
  await new PromptsClient(client).push('bench/support', '1.0.0', spec, { label: 'production' });
  const svc = server.services.prompts;

  // 1. Inside the server.
  const byVersion = RenderPromptBody.parse({ ref: '1.0.0', variables });
  const byLabel = RenderPromptBody.parse({ ref: 'production', variables });
  const rendered = await svc.render('bench/support', byVersion);
  const chars = rendered.messages.reduce((s, m) => s + m.content.length, 0);
  const compiled = compilePrompt(PromptSpec.parse(spec));
  if (!compiled.ok) throw new Error('bench template does not compile');
  const c = compiled.prompt;
  const engine = () => {
    const b = bindVariables(c, variables);
    if (!b.ok) throw new Error(b.message);
    return renderCompiled(c, b.values);
  };
  const engineScan = () => {
    const out = engine();
    for (const v of Object.values(variables)) scanText(v);
    return out;
  };
  const messages = spec.template.type === 'chat' ? spec.template.messages : [];
  const naive = () =>
    messages.map((m) => {
      let s = m.content;
      for (const [k, v] of Object.entries(variables)) s = s.replaceAll(`{{${k}}}`, v);
      return { role: m.role, content: s };
    });
  if (JSON.stringify(naive()) !== JSON.stringify(engine().messages)) throw new Error('baseline and engine disagree');

  const rows: [string, Stats][] = [
    ['service render, ref = version (SQLite lookup)', await time(ITERATIONS, () => svc.render('bench/support', byVersion))],
    ['service render, ref = label (SQLite lookup)', await time(ITERATIONS, () => svc.render('bench/support', byLabel))],
    ['engine: bind + render (compiled)', await time(ITERATIONS, engine)],
    ['engine: bind + render + injection scan', await time(ITERATIONS, engineScan)],
    ['baseline: replaceAll per variable per message', await time(ITERATIONS, naive)],
  ];
  console.log('');
  console.log(`render inside the server: ${fmtInt(ITERATIONS)} calls each, per-call latency; output ${rendered.messages.length} messages, ${fmtInt(chars)} characters`);
  printTable(['path', 'p50', 'p99', 'mean'], rows.map(([name, s]) => [name, us(s.p50), us(s.p99), us(s.mean)]));
  const serviceP99 = Math.max(rows[0]![1].p99, rows[1]![1].p99);
  console.log(`  target: render p99 < 1 ms inside the server → ${verdict(serviceP99 < 1000)} (worst p99 ${us(serviceP99)})`);

  // 2. Over HTTP.
  const loader = fork(path.join(HERE, 'prompts-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const load = (connections: number) =>
    new Promise<RenderLoadResult>((resolve) => {
      const req: RenderLoadRequest = { url: `${server.url}/api/v1/prompts/bench%2Fsupport/render`, token, body: JSON.stringify({ ref: 'production', variables }), connections, warmupSeconds: 1, seconds: SECONDS };
      loader.once('message', (m: RenderLoadResult) => resolve(m));
      loader.send(req);
    });
  const http: [string, RenderLoadResult][] = [];
  for (const conns of [1, 16]) http.push([`POST /render, ref = label, ${conns} connection${conns > 1 ? 's' : ''}`, await load(conns)]);
  loader.disconnect();
  console.log('');
  console.log(`render over HTTP (autocannon in a child process, ${SECONDS} s each, token checked, safety warn)`);
  printTable(['load', 'req/s', 'p50', 'p99', 'non-2xx'], http.map(([name, r]) => [name, fmtInt(r.rps), `${r.p50.toFixed(2)} ms`, `${r.p99.toFixed(2)} ms`, String(r.non2xx + r.errors)]));

  // 3. SDK cache hits.
  let fetches = 0;
  const counting = new StewardClient({ url: server.url, token, fetch: (input, init) => ((fetches += 1), fetch(input, init)) });
  const cache = new PromptCache({ source: counting, ttlMs: 3_600_000 });
  await cache.getPrompt('bench/support', { label: 'production' });
  const N = 2_000_000;
  const map = new Map([['bench/support\nproduction', rendered]]);
  const settled = new Map([['bench/support\nproduction', Promise.resolve(rendered)]]);
  const hitAwait = await perCallNs(N, () => cache.getPrompt('bench/support', { label: 'production' }));
  const hitCall = perCallNsSync(N, () => cache.getPrompt('bench/support', { label: 'production' }));
  const mapAwait = await perCallNs(N, () => settled.get('bench/support\nproduction'));
  const mapGet = perCallNsSync(N, () => map.get('bench/support\nproduction'));
  const local = await time(ITERATIONS, async () => (await cache.getPrompt('bench/support', { label: 'production' })).compile(variables));
  console.log('');
  console.log(`SDK prompt cache, hit path (${fmtInt(N)} calls each; ${fetches} request(s) to the server in all)`);
  printTable(['call', 'per call'], [
    ['await cache.getPrompt(name, {label})', `${hitAwait.toFixed(0)} ns`],
    ['cache.getPrompt(name, {label}) (call only, promise not awaited)', `${hitCall.toFixed(0)} ns`],
    ['baseline: await a settled promise from Map.get', `${mapAwait.toFixed(0)} ns`],
    ['baseline: Map.get', `${mapGet.toFixed(0)} ns`],
    ['getPrompt + compile(variables) locally (p50 / p99)', `${us(local.p50)} / ${us(local.p99)}`],
  ]);
  console.log(`  target: cached getPrompt < 5 µs per hit → ${verdict(hitAwait < 5000)} (${(hitAwait / 1000).toFixed(3)} µs awaited)`);

  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

await main();
