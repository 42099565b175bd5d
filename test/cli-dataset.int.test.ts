/**
 * `steward dataset` as a user runs it: push with statistics, lineage from a model to the dataset
 * version it was trained on, pull with verification, listings, and bad data (reported with its
 * line; refused under --strict with nothing created).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionResponse } from '../src/contracts/assets.js';
import { cliEnv, runCli, type CliEnv, writeTree } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;

const dir = (name: string, files: Record<string, string>): string => writeTree(path.join(env.home, name), files);

beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  env = cliEnv(server.url, server.token);
});
afterAll(async () => {
  await server?.stop();
});

describe('steward dataset', () => {
  it('pushes a dataset with statistics and a datasheet, and pulls it back verified', async () => {
    const d = dir('chats', {
      'train.jsonl': '{"prompt":"hi","answer":"hello"}\n{"prompt":"how are you","answer":null}\n',
      'test.csv': 'prompt,answer\nbye,see you\n',
    });
    fs.writeFileSync(path.join(env.home, 'sheet.md'), '# Support chats\nCollected with consent.');
    const push = await runCli(['dataset', 'push', d, '--name', 'acme/chats', '--version', '1.0.0', '--datasheet', 'sheet.md', '--license', 'CC-BY-4.0', '--source', 'support desk', '--json'], env);
    expect(push.code, push.stderr).toBe(0);
    const v = VersionResponse.passthrough().parse(JSON.parse(push.stdout));
    expect(v).toMatchObject({ kind: 'dataset', name: 'acme/chats', version: '1.0.0', state: 'ready', card: expect.stringContaining('consent') });
    expect(v.metadata).toMatchObject({ rows: 3, splits: { train: 2, test: 1 }, columns: ['answer', 'prompt'], license: 'CC-BY-4.0', source: 'support desk', format: 'mixed' });

    const show = await runCli(['dataset', 'show', 'acme/chats:1.0.0'], env);
    expect(show.stdout).toContain('acme/chats:1.0.0  ready');
    const ls = await runCli(['dataset', 'ls', '--json'], env);
    expect((JSON.parse(ls.stdout) as { items: { name: string }[] }).items.map((a) => a.name)).toEqual(['acme/chats']);

    const out = path.join(env.home, 'chats-out');
    const pull = await runCli(['dataset', 'pull', 'acme/chats:1.0.0', '-o', out], env);
    expect(pull.code, pull.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8')).toContain('how are you');
  });

  it('links a model version to the dataset it was trained on, and shows it as lineage', async () => {
    const m = dir('model', { 'w.bin': 'weights' });
    const push = await runCli(['push', m, '--model', 'acme/bot', '--version', '1.0.0', '--dataset', 'acme/chats:1.0.0'], env);
    expect(push.code, push.stderr).toBe(0);
    const tree = await runCli(['lineage', 'acme/chats:1.0.0', '--kind', 'dataset'], env);
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toContain('used by:');
    expect(tree.stdout).toContain('dataset: model:acme/bot@1.0.0 (ready)');
    const up = await runCli(['lineage', 'acme/bot:1.0.0'], env);
    expect(up.stdout).toContain('dataset: dataset:acme/chats@1.0.0 (ready)');
  });

  it('reports lines that do not parse and still stores the bytes', async () => {
    const d = dir('broken', { 'train.jsonl': '{"a":1}\n{"a":\n{"a":3}\n' });
    const push = await runCli(['dataset', 'push', d, '--name', 'acme/broken', '--version', '1.0.0', '--json'], env);
    expect(push.code).toBe(0);
    expect(push.stderr).toContain('warning: train.jsonl:2:');
    const v = JSON.parse(push.stdout) as { metadata: { rows: number; statistics: { errors: { line: number }[] }[] } };
    expect(v.metadata.rows).toBe(2);
    expect(v.metadata.statistics[0]!.errors[0]!.line).toBe(2);
  });

  it('refuses bad data under --strict and creates nothing', async () => {
    const d = dir('strict', { 'data.csv': 'a,b\n1,"open\n' });
    const push = await runCli(['dataset', 'push', d, '--name', 'acme/strict', '--version', '1.0.0', '--strict'], env);
    expect(push.code).toBe(2);
    expect(push.stderr).toContain('do not parse');
    const show = await runCli(['dataset', 'show', 'acme/strict:1.0.0'], env);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/not_found/);
  });

  it('refuses lineage to a dataset version that does not exist', async () => {
    const m = dir('model2', { 'w.bin': 'weights 2' });
    const push = await runCli(['push', m, '--model', 'acme/bot2', '--version', '1.0.0', '--dataset', 'acme/chats:9.9.9'], env);
    expect(push.code).toBe(1);
    expect(push.stderr).toMatch(/^error: not_found: dataset acme\/chats has no version 9\.9\.9/m);
  });
});
