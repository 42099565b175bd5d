// Entry point of the built-in runtime's child process:
//   node dist/runtimes/builtin/main.js --model FILE.gguf --port N [--host 127.0.0.1]
//        [--threads 1] [--context-size 512] [--model-name ID] [--max-tokens 256]
//        [--fault-rate 0.2]   (fail that share of completion requests with a 500: drills, demos)
// Exit codes: 0 after SIGTERM/SIGINT, 1 when the model fails to load, 2 on bad arguments.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { startBuiltinServer } from './builtin-server.js';
import { GGUF_MAGIC, readGguf } from './gguf.js';

/**
 * Refuses a file that is not a GGUF llama.cpp can read, before node-llama-cpp sees it: on some
 * malformed headers it neither fails nor finishes (it read one such file for minutes, growing to
 * gigabytes). The header of a file up to 64 MiB is parsed whole; of a larger one, magic and version.
 */
function checkGguf(file: string): void {
  const LIMIT = 64 * 1024 * 1024;
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, LIMIT));
    fs.readSync(fd, buf, 0, buf.length, 0);
    if (buf.length < 24 || buf.readUInt32LE(0) !== GGUF_MAGIC) throw new Error('not a GGUF file (bad magic)');
    const version = buf.readUInt32LE(4);
    if (version < 2 || version > 3) throw new Error(`unsupported GGUF version ${version} (2 and 3 are read)`);
    if (size <= LIMIT) readGguf(buf);
  } finally {
    fs.closeSync(fd);
  }
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    threads: { type: 'string', default: '1' },
    'context-size': { type: 'string', default: '512' },
    'model-name': { type: 'string' },
    'max-tokens': { type: 'string', default: '256' },
    'fault-rate': { type: 'string', default: '0' },
  },
});
const int = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`builtin runtime: --${name} must be a non-negative integer (got ${v ?? 'nothing'})`);
    process.exit(2);
  }
  return n;
};
const faultRate = Number(values['fault-rate']);
if (!(faultRate >= 0 && faultRate <= 1)) {
  console.error(`builtin runtime: --fault-rate must be a number between 0 and 1 (got ${values['fault-rate']})`);
  process.exit(2);
}
if (!values.model) {
  console.error('builtin runtime: --model FILE.gguf is required');
  process.exit(2);
}

try {
  checkGguf(values.model);
} catch (err) {
  console.error(`builtin runtime: failed to load ${values.model}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

const rt = await startBuiltinServer({
  modelPath: values.model,
  port: int('port', values.port),
  host: values.host,
  threads: int('threads', values.threads),
  contextSize: int('context-size', values['context-size']),
  defaultMaxTokens: int('max-tokens', values['max-tokens']),
  faultRate,
  ...(values['model-name'] ? { modelName: values['model-name'] } : {}),
}).catch((err: unknown) => {
  console.error(`builtin runtime: cannot listen: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
const addr = rt.server.address();
console.error(`builtin runtime: listening on ${typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : String(addr)}`);
rt.ready.catch((err: unknown) => {
  console.error(`builtin runtime: failed to load ${values.model}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
// `on`, not `once`: node-llama-cpp re-raises the signal after its own cleanup, and with no
// listener left the process would die of it (exit 143) instead of exiting 0.
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 2_000).unref();
    void rt.close().finally(() => process.exit(0));
  });
}
