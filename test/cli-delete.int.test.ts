/**
 * `steward rm`, `dataset rm`, `prompt rm` and `eval rm` as a user runs them: the real binary
 * against a real server. No terminal to ask on means `--yes` is required (exit 2, nothing
 * deleted); a refusal names its reason (exit 1); `--json` prints the contract's answer. A push
 * the server refuses leaves `steward ls` as it was.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetPage, DeleteResponse } from '../src/contracts/assets.js';
import { RunResponse } from '../src/contracts/evals.js';
import { StewardClient } from '../src/sdk/client.js';
import { EvalsClient } from '../src/sdk/evals-client.js';
import { cliEnv, runCli, type CliEnv, writeTree } from './helpers/cli.js';
import { jsonl } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;
let client: StewardClient;
let fake: FakeOpenAI;

const dir = (name: string, files: Record<string, string | Buffer>): string => writeTree(path.join(env.home, name), files);

beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  env = cliEnv(server.url, server.token);
  client = new StewardClient({ url: server.url, token: server.token });
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

describe('steward rm', () => {
  it('deletes a version and then the whole model; asks for --yes without a terminal; refusals say why', async () => {
    const m = dir('rm1', { 'w.bin': randomBytes(1000) });
    expect((await runCli(['push', m, '--model', 'rm/bot', '--version', '1.0.0'], env)).code).toBe(0);
    expect((await runCli(['push', dir('rm1b', { 'w.bin': randomBytes(1000) }), '--model', 'rm/bot', '--version', '1.1.0'], env)).code).toBe(0);

    const noYes = await runCli(['rm', 'rm/bot:1.1.0'], env);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('Pass --yes to confirm');
    expect((await client.getVersion('model', 'rm/bot', '1.1.0')).state).toBe('ready');
    expect((await runCli(['rm', 'rm/bot', '--yes'], env)).stderr).toContain('pass --all to delete rm/bot');
    expect((await runCli(['rm', 'rm/bot:1.1.0', '--all', '--yes'], env)).code).toBe(2);

    const one = await runCli(['rm', 'rm/bot:1.1.0', '--yes'], env);
    expect(one.code, one.stderr).toBe(0);
    // (1.1.0 may already have entered development by itself: it leaves it with the deletion.)
    expect(one.stdout).toMatch(/^deleted model rm\/bot:1\.1\.0(, with 1 environments)?\n$/);
    expect(one.stderr).toContain('steward gc');
    const gone = await runCli(['show', 'rm/bot:1.1.0'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not_found');
    const again = await runCli(['rm', 'rm/bot:1.1.0', '--yes'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('error: not_found: model rm/bot has no version 1.1.0\n');

    expect((await runCli(['alias', 'set', 'rm/bot', 'champion', '1.0.0'], env)).code).toBe(0);
    const refused = await runCli(['rm', 'rm/bot', '--all', '--yes'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('error: conflict: model rm/bot cannot be deleted: 1.0.0: alias champion points at it (move or remove it: steward alias rm rm/bot champion)\n');
    expect((await runCli(['alias', 'rm', 'rm/bot', 'champion'], env)).code).toBe(0);

    const all = await runCli(['rm', 'rm/bot', '--all', '--yes', '--json'], env);
    expect(all.code, all.stderr).toBe(0);
    expect(DeleteResponse.parse(JSON.parse(all.stdout))).toMatchObject({ kind: 'model', name: 'rm/bot', assetDeleted: true, versions: [{ version: '1.0.0', state: 'ready' }] });
    const ls = await runCli(['ls', '--json'], env);
    expect(AssetPage.parse(JSON.parse(ls.stdout)).items.map((a) => a.name)).not.toContain('rm/bot');
  });

  it('a push the server refuses leaves `steward ls` unchanged', async () => {
    const before = (await runCli(['ls', '--json'], env)).stdout;
    fs.writeFileSync(path.join(env.home, 'big-meta.json'), JSON.stringify({ notes: 'x'.repeat(2 * 1024 * 1024) }));
    const m = dir('fail1', { 'w.bin': randomBytes(500) });
    const badParent = await runCli(['push', m, '--model', 'rm/failed', '--version', '1.0.0', '--parent', 'rm/ghost:1.0.0'], env);
    expect(badParent.code).toBe(1);
    expect(badParent.stderr).toContain('not_found');
    const tooBig = await runCli(['push', m, '--model', 'rm/failed', '--version', '1.0.0', '--meta', 'big-meta.json'], env);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toContain('too_large');
    expect((await runCli(['ls', '--json'], env)).stdout).toBe(before);
  });

  it('dataset rm, prompt rm and eval rm', async () => {
    const ds = dir('ds1', { 'train.jsonl': '{"text":"a"}\n' });
    expect((await runCli(['dataset', 'push', ds, '--name', 'rm/data', '--version', '1.0.0'], env)).code).toBe(0);
    const d = await runCli(['dataset', 'rm', 'rm/data:1.0.0', '--yes', '--json'], env);
    expect(d.code, d.stderr).toBe(0);
    expect(DeleteResponse.parse(JSON.parse(d.stdout))).toMatchObject({ kind: 'dataset', name: 'rm/data', assetDeleted: false });

    fs.writeFileSync(path.join(env.home, 'p.json'), JSON.stringify({ template: { type: 'text', text: 'Hello {{name}}' } }));
    expect((await runCli(['prompt', 'push', 'p.json', '--name', 'rm/greet', '--version', '1.0.0'], env)).code).toBe(0);
    const p = await runCli(['prompt', 'rm', 'rm/greet', '--all', '--yes'], env);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe('deleted prompt rm/greet with 1 version (1.0.0)\n');

    // A run to delete: a suite and a model pushed through the CLI, the run started through the SDK.
    const suite = dir('suite1', { 'cases.jsonl': jsonl([{ id: 'a', input: 'ANSWER: x', expected: 'x' }]) });
    fs.writeFileSync(path.join(suite, 'suite.json'), JSON.stringify({ metrics: [{ metric: 'exact_match' }] }));
    const sp = await runCli(['eval', 'suite', 'push', suite, '--name', 'rm/qa', '--version', '1.0.0'], env);
    expect(sp.code, sp.stderr).toBe(0);
    expect((await runCli(['push', dir('rm2', { 'w.bin': randomBytes(100) }), '--model', 'rm/evald', '--version', '1.0.0'], env)).code).toBe(0);
    const evals = new EvalsClient(client);
    const run = await evals.wait((await evals.startRun({ suite: 'rm/qa:1.0.0', model: 'rm/evald:1.0.0', endpoint: { url: fake.url } })).id, { intervalMs: 50 });
    expect(run.state).toBe('succeeded');

    const suiteHeld = await runCli(['dataset', 'rm', 'rm/qa:1.0.0', '--yes'], env);
    expect(suiteHeld.code).toBe(1);
    expect(suiteHeld.stderr).toContain(`steward eval rm ${run.id}`);
    const r = await runCli(['eval', 'rm', run.id, '--yes', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(RunResponse.parse(JSON.parse(r.stdout))).toMatchObject({ id: run.id, state: 'succeeded' });
    expect((await runCli(['eval', 'show', run.id], env)).code).toBe(1);
    expect((await runCli(['dataset', 'rm', 'rm/qa', '--all', '--yes'], env)).code).toBe(0);
  });
});
