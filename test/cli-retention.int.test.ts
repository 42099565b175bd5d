/**
 * `steward edit NAME --keep-archived-files N|all` as a user runs it (issue 12, item 5): the real
 * binary against a real server. Bad values are usage errors (exit 2); archiving past the policy
 * releases the older versions' files, which `show` says and `pull` refuses with the server's reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetResponse } from '../src/contracts/assets.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;

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

describe('steward edit --keep-archived-files', () => {
  it('sets and clears the policy; archiving past it releases files, shown by show and refused by pull', async () => {
    // This team's development takes no version by itself: no automatic entry races the archives below.
    await ok(['env', 'set', 'development', '--namespace', 'ret', '--auto-promote', 'off']);
    const dir = path.join(env.home, 'm');
    fs.mkdirSync(dir);
    for (const v of ['1.0.0', '1.1.0']) {
      fs.writeFileSync(path.join(dir, 'w.bin'), `weights ${v}`);
      await ok(['push', dir, '--model', 'ret/bot', '--version', v, '--no-progress']);
    }

    expect((await ok(['edit', 'ret/bot', '--keep-archived-files', '1'])).stdout).toBe('ret/bot  description ""  labels (none)  keep archived files 1\n');
    for (const bad of ['-1', '1.5', 'some', '']) {
      const r = await runCli(['edit', 'ret/bot', '--keep-archived-files', bad], env);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('--keep-archived-files takes a whole number of archived versions');
    }
    const onVersion = await runCli(['edit', 'ret/bot:1.0.0', '--keep-archived-files', '1'], env);
    expect(onVersion.code).toBe(2);
    expect(onVersion.stderr).toContain("the retention policy is the model's");

    await ok(['archive', 'ret/bot:1.0.0']);
    await ok(['archive', 'ret/bot:1.1.0']);
    expect((await ok(['show', 'ret/bot:1.0.0'])).stdout).toMatch(/^files {6}released \S+ by the retention policy/m);
    expect((await ok(['show', 'ret/bot:1.1.0'])).stdout).not.toContain('released');

    const pull = await runCli(['pull', 'ret/bot:1.0.0', '-o', path.join(env.home, 'out'), '--no-progress'], env);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain('the files of ret/bot:1.0.0 were released at');
    expect(pull.stderr).toContain('by the retention policy of model ret/bot (keepArchivedFiles=1)');
    await ok(['pull', 'ret/bot:1.1.0', '-o', path.join(env.home, 'out2'), '--no-progress']);
    expect(fs.readFileSync(path.join(env.home, 'out2', 'w.bin'), 'utf8')).toBe('weights 1.1.0');

    const cleared = AssetResponse.parse(JSON.parse((await ok(['edit', 'ret/bot', '--keep-archived-files', 'all', '--json'])).stdout));
    expect(cleared.keepArchivedFiles).toBeNull();
  });
});
