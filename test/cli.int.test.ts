/**
 * The CLI as a user runs it: the real binary against a real server (SQLite + files).
 * Checks outputs, --json shapes against the contracts, exit codes (0 ok, 1 failed, 2 usage),
 * deduplication on re-push, verification and resume on pull.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { AssetPage, CompareResponse, VersionPage } from '../src/contracts/assets.js';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { StewardClient } from '../src/sdk/client.js';
import { cliEnv, runCli, type CliEnv, writeTree } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;

const makeModelDir = writeTree;

beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  env = cliEnv(server.url, server.token);
});
afterAll(async () => {
  await server?.stop();
});

describe('steward push / pull / show', () => {
  it('pushes a directory, lists it, shows it as JSON matching the contract, and pulls it back verified', async () => {
    const dir = makeModelDir(path.join(env.home, 'm1'), { 'weights.bin': randomBytes(300_000), 'config.json': '{"layers":2}', 'tok/vocab.txt': 'a\nb\n' });
    fs.writeFileSync(path.join(env.home, 'meta.json'), JSON.stringify({ architecture: 'llama', parameters: 1e9, accuracy_score: 0.8 }));
    fs.writeFileSync(path.join(env.home, 'card.md'), '# Demo\nA tiny model.');
    const push = await runCli(['push', dir, '--model', 'cli/demo', '--version', 'v1.0.0', '--meta', 'meta.json', '--card', 'card.md', '--label', 'team=nlp', '--json'], env);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const pushed = ModelVersionDocument.extend({ uploadedBytes: z.number(), resumed: z.boolean() }).parse(JSON.parse(push.stdout));
    expect(pushed.uploadedBytes).toBe(300_000 + 12 + 4);
    expect(pushed).toMatchObject({ name: 'cli/demo', version: '1.0.0', state: 'ready', fileCount: 3, labels: { team: 'nlp' } });

    const ls = await runCli(['ls', '--json'], env);
    expect(ls.code).toBe(0);
    expect(AssetPage.parse(JSON.parse(ls.stdout)).items.map((a) => a.name)).toContain('cli/demo');

    const show = await runCli(['show', 'cli/demo:1.0.0', '--json'], env);
    const v = ModelVersionDocument.parse(JSON.parse(show.stdout));
    expect(v.metadata).toMatchObject({ architecture: 'llama' });
    expect(v.card).toContain('tiny model');
    expect(v.files?.map((f) => f.path)).toEqual(['config.json', 'tok/vocab.txt', 'weights.bin']);

    const human = await runCli(['show', 'cli/demo:1.0.0'], env);
    expect(human.stdout).toContain('cli/demo:1.0.0  ready');
    expect(human.stdout).toContain(v.digest);

    const out = path.join(env.home, 'out1');
    const pull = await runCli(['pull', 'cli/demo:1.0.0', '-o', out], env);
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain('every sha256 verified');
    for (const f of v.files!) {
      expect(createHash('sha256').update(fs.readFileSync(path.join(out, f.path))).digest('hex')).toBe(f.sha256);
    }
  });

  it('re-pushes the same content as a new version without uploading a byte', async () => {
    const dir = makeModelDir(path.join(env.home, 'm2'), { 'a.bin': randomBytes(200_000), 'b.bin': randomBytes(1000) });
    expect((await runCli(['push', dir, '--model', 'cli/dedup', '--version', '1.0.0'], env)).code).toBe(0);
    const again = await runCli(['push', dir, '--model', 'cli/dedup', '--version', '1.0.1', '--parent', 'cli/dedup:1.0.0', '--json'], env);
    expect(again.code).toBe(0);
    const res = JSON.parse(again.stdout) as { uploadedBytes: number; state: string; lineage: { relation: string; ref: string }[] };
    expect(res.uploadedBytes).toBe(0);
    expect(res.state).toBe('ready');
    expect(res.lineage).toEqual([expect.objectContaining({ relation: 'parent', ref: 'cli/dedup:1.0.0' })]);
  });

  it('pushing an identical existing version again succeeds; different files under that version fail with exit 1', async () => {
    const dir = makeModelDir(path.join(env.home, 'm3'), { 'x.bin': randomBytes(1000) });
    expect((await runCli(['push', dir, '--model', 'cli/idem', '--version', '2.0.0'], env)).code).toBe(0);
    const same = await runCli(['push', dir, '--model', 'cli/idem', '--version', '2.0.0'], env);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('already ready');
    fs.writeFileSync(path.join(dir, 'x.bin'), randomBytes(1000));
    const different = await runCli(['push', dir, '--model', 'cli/idem', '--version', '2.0.0'], env);
    expect(different.code).toBe(1);
    expect(different.stderr).toMatch(/^error: conflict: .*different files/);
  });

  // An interrupted push either got as far as creating its version (pending) or not: blobs are
  // sent while hashing continues, before the version exists. Either way the re-run resumes.
  it.each([
    ['the pending version and', true],
    ['', false],
  ])('resumes an interrupted push: reuses %s the large file\'s session from the offset the server holds', async (_what, versionCreated) => {
    // Above the CLI's 64 MiB session threshold, so the file goes through a resumable session.
    const big = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(64 << 20, 7)]);
    const name = `cli/interrupted-${versionCreated ? 'pending' : 'early'}`;
    const small = `small file of ${name}`;
    const dir = makeModelDir(path.join(env.home, name), { 'big.bin': big, 'small.txt': small });
    const sha = createHash('sha256').update(big).digest('hex');
    const smallSha = createHash('sha256').update(small).digest('hex');
    // The interrupted run had sent the first 10 MiB of big.bin and, as the CLI does, noted the
    // session in its cache dir.
    const sdk = new StewardClient({ url: server.url, token: server.token });
    await sdk.createAsset('model', { name });
    if (versionCreated) {
      const created = await sdk.createVersion('model', name, { version: '1.0.0', files: [{ path: 'big.bin', size: big.length, sha256: sha }, { path: 'small.txt', size: small.length, sha256: smallSha }] });
      expect(created.missing.sort()).toEqual([sha, smallSha].sort());
    }
    const session = await sdk.createUpload(sha, big.length);
    await sdk.appendUpload(session.id, 0, big.subarray(0, 10 << 20), 10 << 20);
    fs.mkdirSync(path.join(env.home, 'cache'), { recursive: true });
    fs.writeFileSync(path.join(env.home, 'cache', 'uploads.json'), JSON.stringify({ [`${sdk.url}|${sha}`]: session.id }));

    const push = await runCli(['push', dir, '--model', name, '--version', '1.0.0', '--json'], env);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const out = ModelVersionDocument.extend({ uploadedBytes: z.number(), resumed: z.boolean() }).parse(JSON.parse(push.stdout));
    expect(out).toMatchObject({ state: 'ready', resumed: true, uploadedBytes: big.length + small.length });
    // The session was continued, not restarted: it is gone now, and so is the CLI's note of it.
    await expect(sdk.getUpload(session.id)).rejects.toMatchObject({ code: 'not_found' });
    expect(JSON.parse(fs.readFileSync(path.join(env.home, 'cache', 'uploads.json'), 'utf8'))).toEqual({});
    const res = await sdk.downloadFile('model', name, '1.0.0', 'big.bin');
    const back = createHash('sha256');
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) back.update(c);
    expect(back.digest('hex')).toBe(sha);
  });

  it('resumes a partial download and re-verifies it', async () => {
    const data = randomBytes(500_000);
    const dir = makeModelDir(path.join(env.home, 'm4'), { 'big.bin': data });
    expect((await runCli(['push', dir, '--model', 'cli/resume', '--version', '1.0.0'], env)).code).toBe(0);
    const out = path.join(env.home, 'out4');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'big.bin.steward-partial'), data.subarray(0, 123_456));
    const pull = await runCli(['pull', 'cli/resume:1.0.0', '-o', out, '--json'], env);
    expect(pull.code).toBe(0);
    expect(JSON.parse(pull.stdout)).toMatchObject({ resumed: 1, downloaded: 0 });
    expect(fs.readFileSync(path.join(out, 'big.bin')).equals(data)).toBe(true);
    expect(fs.existsSync(path.join(out, 'big.bin.steward-partial'))).toBe(false);
    const again = await runCli(['pull', 'cli/resume:1.0.0', '-o', out, '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: 1 });
  });

  it('rejects a corrupt partial file: the bad prefix fails verification and leaves no file behind', async () => {
    const data = randomBytes(100_000);
    const dir = makeModelDir(path.join(env.home, 'm5'), { 'w.bin': data });
    expect((await runCli(['push', dir, '--model', 'cli/corrupt', '--version', '1.0.0'], env)).code).toBe(0);
    const out = path.join(env.home, 'out5');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'w.bin.steward-partial'), randomBytes(5000));
    const pull = await runCli(['pull', 'cli/corrupt:1.0.0', '-o', out], env);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain('do not match the manifest');
    expect(fs.existsSync(path.join(out, 'w.bin'))).toBe(false);
    // A second pull starts clean and succeeds.
    expect((await runCli(['pull', 'cli/corrupt:1.0.0', '-o', out], env)).code).toBe(0);
  });
});

describe('steward listings, aliases, lifecycle', () => {
  beforeAll(async () => {
    const dir = makeModelDir(path.join(env.home, 'life'), { 'w.bin': randomBytes(1000) });
    fs.writeFileSync(path.join(env.home, 'meta-a.json'), JSON.stringify({ accuracy_score: 0.7, benchmark_results: { mmlu: 61 } }));
    fs.writeFileSync(path.join(env.home, 'meta-b.json'), JSON.stringify({ accuracy_score: 0.75, benchmark_results: { mmlu: 64 } }));
    expect((await runCli(['push', dir, '--model', 'cli/life', '--version', '1.0.0', '--meta', 'meta-a.json'], env)).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'extra.txt'), 'new file');
    expect((await runCli(['push', dir, '--model', 'cli/life', '--version', '1.1.0', '--meta', 'meta-b.json'], env)).code).toBe(0);
  });

  it('lists versions as JSON and as a table', async () => {
    const json = await runCli(['versions', 'cli/life', '--json'], env);
    expect(VersionPage.parse(JSON.parse(json.stdout)).items.map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    const table = await runCli(['versions', 'cli/life', '--sort', 'version', '--order', 'asc'], env);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+STATE/);
    expect(table.stdout.indexOf('1.0.0')).toBeLessThan(table.stdout.indexOf('1.1.0'));
  });

  it('diffs two versions with metric deltas', async () => {
    const d = CompareResponse.parse(JSON.parse((await runCli(['diff', 'cli/life:1.0.0', 'cli/life:1.1.0', '--json'], env)).stdout));
    expect(d.files).toEqual([expect.objectContaining({ path: 'extra.txt', change: 'added' })]);
    expect(d.metrics.find((m) => m.metric === 'benchmark_results.mmlu')?.delta).toBe(3);
    const human = await runCli(['diff', 'cli/life:1.0.0', '1.1.0'], env);
    expect(human.stdout).toContain('+ extra.txt');
    expect(human.stdout).toMatch(/benchmark_results\.mmlu\s+61 → 64\s+\(\+3\)/);
  });

  it('moves an alias, records its history, and pulls through it', async () => {
    expect((await runCli(['alias', 'set', 'cli/life', 'champion', '1.0.0'], env)).code).toBe(0);
    expect((await runCli(['alias', 'set', 'cli/life', 'champion', '1.1.0'], env)).stdout).toBe('cli/life:champion → 1.1.0\n');
    const hist = JSON.parse((await runCli(['alias', 'ls', 'cli/life', '--history', '--json'], env)).stdout) as { items: { version: string; previousVersion: string | null }[] };
    expect(hist.items.slice(0, 2)).toEqual([expect.objectContaining({ version: '1.1.0', previousVersion: '1.0.0' }), expect.objectContaining({ version: '1.0.0', previousVersion: null })]);
    const show = ModelVersionDocument.parse(JSON.parse((await runCli(['show', 'cli/life:champion', '--json'], env)).stdout));
    expect(show.version).toBe('1.1.0');
    expect((await runCli(['alias', 'rm', 'cli/life', 'champion'], env)).code).toBe(0);
    const gone = await runCli(['show', 'cli/life:champion'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error: not_found: /);
  });

  it('deprecates then archives, and refuses an alias on an archived version', async () => {
    expect((await runCli(['deprecate', 'cli/life:1.0.0'], env)).stdout).toBe('cli/life:1.0.0 is deprecated\n');
    expect((await runCli(['archive', 'cli/life:1.0.0'], env)).stdout).toBe('cli/life:1.0.0 is archived\n');
    const alias = await runCli(['alias', 'set', 'cli/life', 'old', '1.0.0'], env);
    expect(alias.code).toBe(1);
    expect(alias.stderr).toMatch(/^error: failed_precondition: /);
  });
});

describe('steward exit codes, auth and help', () => {
  it('exits 2 on bad usage and 1 on a failed operation', async () => {
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
    expect((await runCli(['push'], env)).code).toBe(2);
    expect((await runCli(['show', 'no-colon-here:'], env)).code).toBe(2);
    const missing = await runCli(['show', 'nobody/nothing:1.0.0'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: not_found: model "nobody/nothing" not found\n');
    const badName = await runCli(['push', env.home, '--model', 'Bad Name', '--version', '1.0.0'], env);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/invalid_argument/);
  });

  it('fails clearly without a token and when the server is down', async () => {
    const anon = await runCli(['ls'], { ...env, token: undefined });
    expect(anon.code).toBe(1);
    expect(anon.stderr).toMatch(/^error: unauthenticated: /);
    expect(anon.stderr).toContain('hint:');
    const down = await runCli(['ls', '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach Steward at http:\/\/127\.0\.0\.1:9/);
  });

  it('creates a token shown once, logs in with it, and it works with its role', async () => {
    const created = await runCli(['token', 'create', '--name', 'reader', '--role', 'viewer', '--expires', '1d', '--json'], env);
    expect(created.code).toBe(0);
    const t = CreatedTokenResponse.parse(JSON.parse(created.stdout));
    const viewerEnv = { ...env, token: undefined, home: env.home };
    const login = await runCli(['login', '--token', t.token], viewerEnv);
    expect(login.code).toBe(0);
    expect(fs.statSync(path.join(env.home, 'config.json')).mode & 0o777).toBe(0o600);
    const who = await runCli(['whoami', '--json'], viewerEnv);
    expect(JSON.parse(who.stdout)).toMatchObject({ name: 'reader', role: 'viewer' });
    const denied = await runCli(['alias', 'set', 'cli/life', 'x', '1.1.0'], viewerEnv);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: permission_denied: /);
    const list = await runCli(['token', 'ls', '--json'], env);
    expect(list.stdout).not.toContain(t.token);
    fs.rmSync(path.join(env.home, 'config.json'));
  });

  it('teaches in --help', async () => {
    const help = await runCli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Quick start:');
    const pushHelp = await runCli(['push', '--help'], env);
    expect(pushHelp.stdout).toContain('--model <name>');
    expect(pushHelp.stdout).toContain('Examples:');
  });

  it('gc is a dry run unless --apply', async () => {
    const dry = await runCli(['gc', '--json'], env);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true });
  });

  it('audit verify names the signed checkpoint the chain was compared with', async () => {
    const cp = await server.services.audit.checkpoint();
    const seq = 'written' in cp ? cp.written.seq : 'unchanged' in cp ? cp.unchanged!.seq : -1;
    const res = await runCli(['audit', 'verify'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^audit trail intact: \\d+ events, head [0-9a-f]{64}; matches the signed checkpoint of \\S+ \\(event ${seq}, key [0-9a-f]{16}\\)`));
  });
});
