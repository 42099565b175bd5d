/**
 * What the shared OpenAI-compatible client costs on a streamed answer: N streamed chat
 * completions from the fake OpenAI server (its own process, so this process's CPU is the
 * client's) through `createOpenAIClient().chat({stream: true})` — SSE parsing, decoding, JSON of
 * every chunk, folding — beside a bare undici pool that reads the same raw bodies and parses
 * nothing. Rounds alternate the two so both see the same machine; the median round is printed.
 *
 * BENCH_REQUESTS (2000), BENCH_CONCURRENCY (16), BENCH_WORDS per answer (100), BENCH_ROUNDS (3).
 * Figures only; nothing here asserts.
 */
import { Pool } from 'undici';
import { createOpenAIClient } from '../src/platform/openai/openai-client.js';
import { startFake, fmtInt, fmtRatio, machineLine, median, printTable } from './bench-fns.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WORDS = Number(process.env.BENCH_WORDS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

// Mixed scripts, so the decoder sees multi-byte characters: one token per word.
const VOCAB = ['the', 'héllo', '日本', 'model', 'naïve', 'über', 'answer', '🙂', 'token', 'данные'];
const answer = (i: number) => Array.from({ length: WORDS }, (_, k) => VOCAB[(i + k) % VOCAB.length]).join(' ');
const body = (i: number) => ({ model: 'm', messages: [{ role: 'user', content: `q${i} ANSWER: ${answer(i)}` }], temperature: 0, stream: true, stream_options: { include_usage: true } });

interface Round {
  ms: number;
  cpuUs: number;
  bytes: number;
}

async function measure(run: (i: number) => Promise<number>): Promise<Round> {
  let next = 0;
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const n = await run(next++);
        bytes += n;
      }
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuUs: cpu.user + cpu.system, bytes };
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(`${fmtInt(REQUESTS)} streamed chat completions of ${WORDS} tokens, concurrency ${CONCURRENCY}, median of ${ROUNDS} alternating rounds`);
  const fake = await startFake();
  const u = new URL(`${fake.url}/chat/completions`);
  const pool = new Pool(u.origin, { connections: CONCURRENCY, pipelining: 1 });
  const client = createOpenAIClient({ url: fake.url, connections: CONCURRENCY, timeoutMs: 60_000 });
  const bare = async (i: number) => {
    const res = await pool.request({ path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(i)) });
    let n = 0;
    for await (const chunk of res.body) n += (chunk as Buffer).length;
    if (res.statusCode !== 200) throw new Error(`request ${i}: status ${res.statusCode}`);
    return n;
  };
  const viaClient = async (i: number) => {
    const { stream: _s, stream_options: _o, ...req } = body(i);
    const r = await client.chat({ ...req, stream: true });
    if (r.text !== answer(i) || r.contentChunks !== WORDS) throw new Error(`request ${i}: the client returned ${r.contentChunks} chunks, ${JSON.stringify(r.text.slice(0, 80))}`);
    return 0; // body bytes are counted on the bare path
  };
  try {
    await measure(bare); // warm-up: connections, JIT
    await measure(viaClient);
    const rounds = { bare: [] as Round[], client: [] as Round[] };
    for (let k = 0; k < ROUNDS; k++) {
      rounds.bare.push(await measure(bare));
      rounds.client.push(await measure(viaClient));
    }
    const med = (rs: Round[]) => ({ ms: median(rs.map((r) => r.ms)), cpuUs: median(rs.map((r) => r.cpuUs)) });
    const b = med(rounds.bare);
    const c = med(rounds.client);
    const bodyBytes = rounds.bare[0]!.bytes / REQUESTS;
    const row = (name: string, r: { ms: number; cpuUs: number }) => [name, fmtInt((REQUESTS / r.ms) * 1000), fmtInt(r.cpuUs / REQUESTS), fmtInt(((WORDS * REQUESTS) / r.ms) * 1000), fmtRatio(r.cpuUs / b.cpuUs)];
    printTable(['path', 'requests/s', 'CPU µs/request', 'tokens/s', 'CPU vs bare'], [row('bare undici, raw body', b), row('OpenAI client, parsed + folded', c)]);
    console.log(`  (SSE body ${fmtInt(bodyBytes)} bytes per answer; CPU is this process's user + system time)`);
  } finally {
    await Promise.all([client.close(), pool.close()]);
    fake.child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
