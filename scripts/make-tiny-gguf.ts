// Writes the tiny llama-architecture GGUF used by the built-in runtime's tests and the quick start.
// Usage: node --import tsx scripts/make-tiny-gguf.ts OUT.gguf [--seed N]
import { writeFileSync } from 'node:fs';
import { makeTinyGguf } from '../src/runtimes/builtin/tiny-gguf.js';

const args = process.argv.slice(2);
const out = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--seed');
const seedAt = args.indexOf('--seed');
if (!out) {
  console.error('usage: make-tiny-gguf OUT.gguf [--seed N]');
  process.exit(2);
}
const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : undefined;
const buf = makeTinyGguf(seed === undefined ? {} : { seed });
writeFileSync(out, buf);
console.log(`${out}: ${buf.length} bytes`);
