/**
 * Smaller CLI gaps a first-time user hit (issue 11, item 16), with the real binary against a
 * real server: `steward --version`; pulling single files (`--include`, globs, repeatable); a
 * warning when pulling a deprecated or archived version; `steward edit` for descriptions and
 * labels; an empty directory refused by push unless `--allow-empty`; `eval ls` past one page
 * (`--cursor`, `--all`; runs started with `eval run -q`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetResponse, VersionResponse } from '../src/contracts/assets.js';
import { RunPage } from '../src/contracts/evals.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { cliEnv, runCli, type CliEnv, writeTree } from './helpers/cli.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;

const makeDir = (name: string, files: Record<string, string>): string => writeTree(path.join(env.home, name), files);

async function ok(args: string[]) {
  const r = await runCli(args, env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  env = cliEnv(server.url, server.token);
});
afterAll(async () => {
  await server?.stop();
});

describe('steward CLI small things', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect((await ok([flag])).stdout).toBe(`${pkg.version}\n`);
    // A command's own --version is untouched.
    const dir = makeDir('v', { 'a.txt': 'a' });
    expect(JSON.parse((await ok(['push', dir, '--model', 'ux/v', '--version', '3.0.0', '--json'])).stdout)).toMatchObject({ version: '3.0.0' });
  });

  it('pulls only the files an --include glob names, and says when none matches', async () => {
    const dir = makeDir('inc', { 'config.json': '{"a":1}', 'tokenizer/config.json': '{"t":1}', 'tokenizer/vocab.txt': 'a b', 'weights.bin': 'w'.repeat(5000) });
    await ok(['push', dir, '--model', 'ux/inc', '--version', '1.0.0']);

    const one = path.join(env.home, 'inc-one');
    const r = await ok(['pull', 'ux/inc:1.0.0', '--include', '/config.json', '-o', one, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 1, bytes: 7, paths: ['config.json'], downloaded: 1 });
    expect(fs.readdirSync(one)).toEqual(['config.json']);

    const some = path.join(env.home, 'inc-some');
    const human = await ok(['pull', 'ux/inc:1.0.0', '--include', 'config.json', '--include', '*.txt', '-o', some]);
    expect(human.stdout).toMatch(/3 of 4 files/);
    expect(fs.readdirSync(path.join(some, 'tokenizer')).sort()).toEqual(['config.json', 'vocab.txt']);
    expect(fs.existsSync(path.join(some, 'weights.bin'))).toBe(false);

    const none = await runCli(['pull', 'ux/inc:1.0.0', '--include', '*.safetensors', '-o', path.join(env.home, 'inc-none')], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no file of ux\/inc:1\.0\.0 matches "\*\.safetensors"; it has 4 file\(s\): config\.json, /);
    expect(fs.existsSync(path.join(env.home, 'inc-none'))).toBe(false);
  });

  it('warns on stderr when pulling a deprecated or archived version', async () => {
    const dir = makeDir('old', { 'w.bin': 'old weights' });
    await ok(['push', dir, '--model', 'ux/old', '--version', '1.0.0']);
    const fresh = await ok(['pull', 'ux/old:1.0.0', '-o', path.join(env.home, 'old-0')]);
    expect(fresh.stderr).not.toMatch(/warning/);
    await ok(['deprecate', 'ux/old:1.0.0']);
    const dep = await ok(['pull', 'ux/old:1.0.0', '-o', path.join(env.home, 'old-1'), '--json']);
    expect(dep.stderr).toMatch(/^warning: ux\/old:1\.0\.0 is deprecated/m);
    expect(JSON.parse(dep.stdout)).toMatchObject({ state: 'deprecated' });
    await ok(['archive', 'ux/old:1.0.0']);
    const arch = await ok(['pull', 'ux/old:1.0.0', '-o', path.join(env.home, 'old-2')]);
    expect(arch.stderr).toMatch(/^warning: ux\/old:1\.0\.0 is archived/m);
  });

  it('edits a model\'s description and labels, and a version\'s labels', async () => {
    const dir = makeDir('edit', { 'w.bin': 'edit' });
    await ok(['push', dir, '--model', 'ux/edit', '--version', '1.0.0', '--label', 'stage=candidate', '--label', 'team=a']);
    await ok(['edit', 'ux/edit', '--description', 'Support bot', '--label', 'team=nlp', '--label', 'tier=1']);
    let a = AssetResponse.parse(JSON.parse((await ok(['edit', 'ux/edit', '--unlabel', 'tier', '--json'])).stdout));
    expect(a).toMatchObject({ description: 'Support bot', labels: { team: 'nlp' } });

    const v = VersionResponse.parse(JSON.parse((await ok(['edit', 'ux/edit:1.0.0', '--label', 'eval=passed', '--unlabel', 'stage', '--json'])).stdout));
    expect(v.labels).toEqual({ team: 'a', eval: 'passed' });
    const human = await ok(['edit', 'ux/edit:1.0.0', '--label', 'x=y']);
    expect(human.stdout).toBe('ux/edit:1.0.0  labels team=a, eval=passed, x=y\n');
    expect(ModelVersionDocument.parse(JSON.parse((await ok(['show', 'ux/edit:1.0.0', '--json'])).stdout)).labels).toEqual({ team: 'a', eval: 'passed', x: 'y' });

    const noDesc = await runCli(['edit', 'ux/edit:1.0.0', '--description', 'x'], env);
    expect(noDesc.code).toBe(2);
    expect(noDesc.stderr).toMatch(/a version has no description/);
    expect((await runCli(['edit', 'ux/edit'], env)).code).toBe(2);
    a = AssetResponse.parse(JSON.parse((await ok(['edit', 'ux/edit', '--description', '', '--json'])).stdout));
    expect(a.description).toBe('');
    // The same for datasets.
    const ds = makeDir('ds', { 'train.jsonl': '{"a":1}\n' });
    await ok(['dataset', 'push', ds, '--name', 'ux/ds', '--version', '1.0.0', '--no-progress']);
    expect(JSON.parse((await ok(['dataset', 'edit', 'ux/ds', '--label', 'split=train', '--json'])).stdout)).toMatchObject({ kind: 'dataset', labels: { split: 'train' } });
  });

  it('refuses to push an empty directory unless --allow-empty, creating nothing', async () => {
    const empty = makeDir('empty', {});
    const r = await runCli(['push', empty, '--model', 'ux/empty', '--version', '1.0.0'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: invalid_argument: .*empty holds no files; nothing was pushed .*--allow-empty/);
    expect((await runCli(['show', 'ux/empty'], env)).stderr).toMatch(/^error: not_found: model "ux\/empty" not found/);
    const allowed = JSON.parse((await ok(['push', empty, '--model', 'ux/empty', '--version', '1.0.0', '--allow-empty', '--json'])).stdout) as { state: string; fileCount: number };
    expect(allowed).toMatchObject({ state: 'ready', fileCount: 0 });
  });
});

describe('steward eval ls', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('pages with --limit and --cursor, and lists every run with --all', async () => {
    const model = makeDir('eval-model', { 'w.bin': 'model' });
    await ok(['push', model, '--model', 'ux/evm', '--version', '1.0.0']);
    const suite = makeDir('eval-suite', { 'cases.jsonl': '{"input": "ANSWER: yes", "expected": "yes"}\n', 'suite.json': '{"metrics": [{"metric": "exact_match"}]}' });
    await ok(['eval', 'suite', 'push', suite, '--name', 'ux/evs', '--version', '1.0.0', '--no-progress']);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await ok(['eval', 'run', 'ux/evs:1.0.0', '--model', 'ux/evm:1.0.0', '--endpoint', fake.url, '-q']);
      expect(run.stdout).toMatch(/^\S+\n$/);
      ids.unshift(run.stdout.trim());
    }
    const first = await ok(['eval', 'ls', '--model', 'ux/evm', '--limit', '2']);
    expect(first.stdout).toContain(ids[0]);
    expect(first.stdout).not.toContain(ids[2]);
    const cursor = /^more: --cursor (\S+)/m.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const second = RunPage.parse(JSON.parse((await ok(['eval', 'ls', '--model', 'ux/evm', '--limit', '2', '--cursor', cursor!, '--json'])).stdout));
    expect(second.items.map((r) => r.id)).toEqual([ids[2]]);
    expect(second.nextCursor).toBeNull();
    const all = RunPage.parse(JSON.parse((await ok(['eval', 'ls', '--model', 'ux/evm', '--limit', '1', '--all', '--json'])).stdout));
    expect(all.items.map((r) => r.id)).toEqual(ids);
    expect(all.nextCursor).toBeNull();
  });
});
