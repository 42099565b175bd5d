/**
 * Which files `steward push` sends, with the real binary against a real server: symbolic links
 * that lead outside the directory are not pushed and a warning lists them (links inside are
 * followed; --follow-external-links opts in), `--exclude` and `.stewardignore` leave files out,
 * and names are sent in Unicode NFC (two files that are one name in NFC are refused).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;
beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  env = cliEnv(server.url, server.token);
});
afterAll(async () => {
  await server?.stop();
});

const Pushed = ModelVersionDocument.extend({
  uploadedBytes: z.number(),
  resumed: z.boolean(),
  /** Present only when links were left out. */
  skipped: z.array(z.object({ path: z.string(), reason: z.enum(['outside', 'broken', 'loop']), target: z.string() })).optional(),
});

function write(root: string, files: Record<string, string | Buffer>): string {
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), content);
  }
  return root;
}

async function filesOf(ref: string): Promise<string[]> {
  const show = await runCli(['show', ref, '--json'], env);
  expect(show.code, show.stderr).toBe(0);
  return ModelVersionDocument.parse(JSON.parse(show.stdout)).files!.map((f) => f.path);
}

describe('steward push and symbolic links', () => {
  it('skips links that lead outside the directory, broken ones and loops, says so, and follows links that stay inside', async () => {
    const secret = write(path.join(env.home, 'elsewhere'), { 'secret.txt': 'not for the registry' });
    const dir = write(path.join(env.home, 'linked'), { 'weights.bin': randomBytes(1000), 'sub/config.json': '{"a":1}' });
    fs.symlinkSync(path.join(secret, 'secret.txt'), path.join(dir, 'stolen.txt'));
    fs.symlinkSync(secret, path.join(dir, 'outside-dir'));
    fs.symlinkSync('../../elsewhere/secret.txt', path.join(dir, 'sub', 'relative-escape.txt'));
    fs.symlinkSync('weights.bin', path.join(dir, 'alias.bin'));
    fs.symlinkSync('sub', path.join(dir, 'sub-link'));
    fs.symlinkSync('nowhere.bin', path.join(dir, 'broken.bin'));
    fs.symlinkSync('..', path.join(dir, 'sub', 'up'));

    const push = await runCli(['push', dir, '--model', 'links/one', '--version', '1.0.0', '--json'], env);
    expect(push.code, push.stderr).toBe(0);
    const out = Pushed.parse(JSON.parse(push.stdout));
    expect(out.files).toBeUndefined();
    expect(await filesOf('links/one:1.0.0')).toEqual(['alias.bin', 'sub-link/config.json', 'sub/config.json', 'weights.bin']);
    expect(out.skipped!.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: 'broken.bin', reason: 'broken', target: 'nowhere.bin' },
      { path: 'outside-dir', reason: 'outside', target: fs.realpathSync(secret) },
      { path: 'stolen.txt', reason: 'outside', target: fs.realpathSync(path.join(secret, 'secret.txt')) },
      { path: 'sub-link/relative-escape.txt', reason: 'outside', target: fs.realpathSync(path.join(secret, 'secret.txt')) },
      { path: 'sub-link/up', reason: 'loop', target: fs.realpathSync(dir) },
      { path: 'sub/relative-escape.txt', reason: 'outside', target: fs.realpathSync(path.join(secret, 'secret.txt')) },
      { path: 'sub/up', reason: 'loop', target: fs.realpathSync(dir) },
    ]);
    // One warning line naming each, on stderr, also with --json.
    const warning = push.stderr.split('\n').filter(Boolean);
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/^warning: 7 symbolic link\(s\) in .* not pushed \(--follow-external-links pushes links that lead outside\): /);
    expect(warning[0]).toContain(`stolen.txt -> ${fs.realpathSync(path.join(secret, 'secret.txt'))} (leads outside the directory)`);
    expect(warning[0]).toContain('broken.bin -> nowhere.bin (is broken)');

    // The human summary says it the same way.
    const human = await runCli(['push', dir, '--model', 'links/one', '--version', '1.0.1'], env);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/^warning: 7 symbolic link\(s\) in .* not pushed/);
  });

  it('pushes what links outside lead to when asked with --follow-external-links', async () => {
    const secret = write(path.join(env.home, 'shared-weights'), { 'w.bin': 'shared bytes' });
    const dir = write(path.join(env.home, 'snapshot'), { 'config.json': '{}' });
    fs.symlinkSync(path.join(secret, 'w.bin'), path.join(dir, 'model.bin'));
    const push = await runCli(['push', dir, '--model', 'links/follow', '--version', '1.0.0', '--follow-external-links', '--json'], env);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toBe('');
    expect(Pushed.parse(JSON.parse(push.stdout)).skipped).toBeUndefined();
    expect(await filesOf('links/follow:1.0.0')).toEqual(['config.json', 'model.bin']);
  });

  it('pushes a directory given through a link, judging "inside" by where it leads', async () => {
    const real = write(path.join(env.home, 'real-dir'), { 'a.txt': 'a' });
    const via = path.join(env.home, 'via-link');
    fs.symlinkSync(real, via);
    const push = await runCli(['push', via, '--model', 'links/via', '--version', '1.0.0'], env);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toBe('');
    expect(await filesOf('links/via:1.0.0')).toEqual(['a.txt']);
  });
});

describe('steward push --exclude and .stewardignore', () => {
  it('leaves out what .stewardignore and each --exclude name, gitignore style, and never pushes .stewardignore itself', async () => {
    const dir = write(path.join(env.home, 'ignored'), {
      '.stewardignore': '# training leftovers\n*.log\n!keep.log\ncheckpoints/\n/notes.md\n',
      'model.bin': 'm',
      'train.log': 'l',
      'keep.log': 'k',
      'checkpoints/step-1/model.bin': 'c',
      'notes.md': 'root notes',
      'docs/notes.md': 'nested notes stay: the pattern is anchored',
      'tmp-1.bin': 't',
      'data/tmp-2.bin': 't2',
      'scratch/x.txt': 'x',
    });
    const push = await runCli(['push', dir, '--model', 'ignore/one', '--version', '1.0.0', '--exclude', 'tmp-*', '--exclude', 'scratch/'], env);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toBe('');
    expect(await filesOf('ignore/one:1.0.0')).toEqual(['docs/notes.md', 'keep.log', 'model.bin']);
  });

  it('does not warn about a link it was told to leave out', async () => {
    const dir = write(path.join(env.home, 'ignored-link'), { 'model.bin': 'm', '.stewardignore': 'cache\n' });
    fs.symlinkSync('/etc/passwd', path.join(dir, 'cache'));
    const push = await runCli(['push', dir, '--model', 'ignore/link', '--version', '1.0.0'], env);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toBe('');
    expect(await filesOf('ignore/link:1.0.0')).toEqual(['model.bin']);
  });

  it('applies the same selection to a dataset push and its statistics', async () => {
    const dir = write(path.join(env.home, 'ds'), { 'train.jsonl': '{"q":"a"}\n{"q":"b"}\n', 'debug.jsonl': '{"q":"x"}\n' });
    const push = await runCli(['dataset', 'push', dir, '--name', 'ignore/ds', '--version', '1.0.0', '--exclude', 'debug.jsonl', '--json'], env);
    expect(push.code, push.stderr).toBe(0);
    const v = JSON.parse(push.stdout) as { metadata: { rows: number; statistics: { path: string }[] }; fileCount: number };
    expect(v.metadata.rows).toBe(2);
    expect(v.metadata.statistics.map((f) => f.path)).toEqual(['train.jsonl']);
    expect(v.fileCount).toBe(1);
  });
});

describe('steward push and Unicode names', () => {
  it('sends a decomposed (NFD) name in NFC, so a re-push of the same directory finds the same version', async () => {
    const dir = write(path.join(env.home, 'nfd'), { 'cafe\u0301.txt': 'café' });
    const first = await runCli(['push', dir, '--model', 'uni/nfd', '--version', '1.0.0'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(await filesOf('uni/nfd:1.0.0')).toEqual(['caf\u00e9.txt']);
    const again = await runCli(['push', dir, '--model', 'uni/nfd', '--version', '1.0.0'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already ready');
  });

  it('refuses two files whose names are one in NFC, naming both, and creates nothing', async () => {
    const dir = write(path.join(env.home, 'twins'), { 'caf\u00e9.txt': 'composed', 'cafe\u0301.txt': 'decomposed' });
    const push = await runCli(['push', dir, '--model', 'uni/twins', '--version', '1.0.0'], env);
    expect(push.code).toBe(1);
    expect(push.stderr).toMatch(/cannot both be pushed: their names are the same text in Unicode NFC/);
    const show = await runCli(['show', 'uni/twins:1.0.0'], env);
    expect(show.code).toBe(1);
  });
});
