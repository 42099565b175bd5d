/**
 * The README's quick start runs as written (issue 11, item 14): every ```sh block under
 * "## Quick start", in order, in one bash with `set -euo pipefail`, in a fresh directory that
 * holds nothing but `bin/` (the checkout's), against a server `bin/steward up` started there on
 * a free port. The environment is a user's: PATH and HOME, plus `ENDPOINT` (which the README
 * asks for) pointing at the fake OpenAI server. No STEWARD_URL or STEWARD_TOKEN: the CLI finds
 * the server and its token as it does for a user. A block preceded by
 * `<!-- readme-test: skip (why) -->` is not run (the `npm start` the test does itself, and
 * `steward demo`, which test/cli-demo.int.test.ts runs: here it would add its ~20 s again).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type CliServer } from './helpers/cli.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The quick start's runnable shell blocks, in order. */
export function quickStartBlocks(readme: string): { run: string[]; skipped: string[] } {
  const start = readme.indexOf('\n## Quick start');
  if (start === -1) throw new Error('README.md has no "## Quick start" section');
  const rest = readme.slice(start + 1);
  const next = rest.slice(3).search(/^## /m);
  const section = next === -1 ? rest : rest.slice(0, next + 3);
  const run: string[] = [];
  const skipped: string[] = [];
  for (const m of section.matchAll(/(<!-- readme-test: skip[^>]*-->\s*\n)?```sh\n([\s\S]*?)```/g)) (m[1] ? skipped : run).push(m[2]!);
  return { run, skipped };
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('README quick start', () => {
  let tmp: string;
  let fake: FakeOpenAI;
  let server: CliServer | undefined;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-readme-'));
    fake = await startFakeOpenAI({ answers: { 'What is the capital of France?': 'Paris' } });
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('finds the blocks to run, and skips only the marked one', () => {
    const { run, skipped } = quickStartBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(skipped).toEqual(['npm install && npm start\n', 'bin/steward demo\n']);
    expect(run.length).toBeGreaterThanOrEqual(4);
    expect(run.join('\n')).toMatch(/bin\/steward push/);
  });

  it('runs literally, in order, on a fresh data dir', { timeout: 300_000 }, async () => {
    const { run } = quickStartBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const home = path.join(tmp, 'home');
    const checkout = path.join(tmp, 'checkout');
    fs.mkdirSync(home);
    fs.mkdirSync(checkout);
    fs.symlinkSync(path.join(ROOT, 'bin'), path.join(checkout, 'bin'));
    const env = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, HOME: home };

    // `npm start` is `node bin/steward up`, here on a free port rather than 8080.
    server = await spawnServer([path.join(checkout, 'bin', 'steward'), 'up', '--port', '0'], checkout, env);
    const res = await bash(`set -euo pipefail\n${run.join('\n')}`, checkout, { ...env, ENDPOINT: fake.url });
    expect(res.code, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`).toBe(0);

    expect(res.stdout).toMatch(/^pushed acme\/my-model:1\.0\.0 \(ready\)/m);
    expect(res.stdout).toMatch(/^pushed acme\/my-model:1\.1\.0 \(ready\)/m);
    expect(res.stdout).toMatch(/^acme\/my-model:champion → 1\.0\.0$/m);
    expect(res.stdout).toMatch(/~ config\.json/);
    expect(res.stdout).toMatch(/all gates passed/);
    expect(fs.readdirSync(path.join(checkout, 'out')).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(fs.readdirSync(path.join(checkout, 'config-only'))).toEqual(['config.json']);
    // The data dir is the fresh one `steward up` made in the checkout.
    expect(fs.existsSync(path.join(checkout, '.steward', 'admin.token'))).toBe(true);
  });
});
