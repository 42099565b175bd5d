/**
 * The fake OpenAI-compatible server as its own process, for benchmarks that must not share an
 * event loop with the client they measure:
 *   node --import tsx test/helpers/fake-openai-main.ts [--port N] [--token-delay-ms N]
 *     [--first-token-delay-ms N] [--mode ok|error500|nonjson|slow] [--delay-ms N] [--api-key K]
 * Prints one line `{"url": "...", "pid": N}` to stdout once listening. On SIGTERM/SIGINT it
 * closes the server and lets the event loop drain, so a timer leaked by the fake would show
 * up as a slow exit (a 2 s unref'd fallback still guarantees the exit).
 */
import { parseArgs } from 'node:util';
import { startFakeOpenAI, type FakeOpenAIMode, type FakeOpenAIOptions } from './fake-openai.js';

const MODES: readonly FakeOpenAIMode[] = ['ok', 'error500', 'nonjson', 'slow'];

function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'token-delay-ms': { type: 'string' },
      'first-token-delay-ms': { type: 'string' },
      mode: { type: 'string' },
      'delay-ms': { type: 'string' },
      'api-key': { type: 'string' },
    },
  });
  const mode = values.mode;
  if (mode !== undefined && !MODES.includes(mode as FakeOpenAIMode)) {
    process.stderr.write(`--mode must be one of ${MODES.join(', ')}\n`);
    process.exit(2);
  }
  const opts: FakeOpenAIOptions = {
    port: intFlag('port', values.port) ?? 0,
    tokenDelayMs: intFlag('token-delay-ms', values['token-delay-ms']),
    firstTokenDelayMs: intFlag('first-token-delay-ms', values['first-token-delay-ms']),
    mode: mode as FakeOpenAIMode | undefined,
    delayMs: intFlag('delay-ms', values['delay-ms']),
    apiKey: values['api-key'],
  };
  const fake = await startFakeOpenAI(opts);
  process.stdout.write(`${JSON.stringify({ url: fake.url, pid: process.pid })}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 2_000).unref();
    fake.close().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(`close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
