/**
 * How the CLI finds its server and which token it sends (issue 11, item 13), with the real
 * binary and no STEWARD_URL / STEWARD_TOKEN unless a test sets them: a server `steward up`
 * started is found from any directory (a dead one is not); `steward login URL` saves a context
 * per server (mode 0600); `context ls|use|rm` and `logout` manage them; a saved token is sent to
 * its own server only; flags and variables still override.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StewardClient } from '../src/sdk/client.js';
import { cliEnv, runCli, startCliServer, type CliEnv } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('a server started with steward up', () => {
  it('is found from any directory with its admin token; once its process is gone, its record is ignored', async () => {
    const env: CliEnv = cliEnv(undefined);
    const project = path.join(env.home, 'project');
    fs.mkdirSync(project);
    const up = await startCliServer(['--port', '0'], env, { cwd: project });
    try {
      const record = path.join(project, '.steward', 'server.json');
      expect(JSON.parse(fs.readFileSync(record, 'utf8'))).toMatchObject({ url: up.url, pid: up.child.pid });
      expect(mode(record)).toBe(0o600);
      expect(mode(path.join(env.home, 'local.json'))).toBe(0o600);

      const elsewhere = fs.mkdtempSync(path.join(env.home, 'elsewhere-'));
      const who = await runCli(['whoami', '--json'], env, { cwd: elsewhere });
      expect(who.stderr).toBe('');
      expect(JSON.parse(who.stdout)).toMatchObject({ name: 'admin', role: 'admin', url: up.url });
      const ctx = JSON.parse((await runCli(['context', 'ls', '--json'], env, { cwd: elsewhere })).stdout) as { localServers: { url: string; dataDir: string }[]; using: { url: string; token: string } };
      expect(ctx.localServers).toEqual([expect.objectContaining({ url: up.url, dataDir: path.join(project, '.steward') })]);
      expect(ctx.using).toMatchObject({ url: up.url, token: path.join(project, '.steward', 'admin.token') });
      // From the project directory, by its data dir.
      expect(JSON.parse((await runCli(['whoami', '--json'], env, { cwd: project })).stdout)).toMatchObject({ url: up.url });
    } finally {
      await up.stop('SIGKILL');
    }
    // Killed: the records stay behind, but name a dead process.
    expect(fs.existsSync(path.join(project, '.steward', 'server.json'))).toBe(true);
    const after = JSON.parse((await runCli(['context', 'ls', '--json'], env, { cwd: project })).stdout) as { localServers: unknown[]; using: { url: string; token: string | null } };
    expect(after.localServers).toEqual([]);
    expect(after.using.url).not.toBe(up.url);
    const gone = await runCli(['whoami'], env, { cwd: project });
    expect(gone.code).toBe(1);
    expect(gone.stderr).not.toContain(up.url);
  });

  it('removes its records on a clean exit', async () => {
    const env: CliEnv = cliEnv(undefined);
    const up = await startCliServer(['--port', '0', '--data', path.join(env.home, 'd')], env);
    expect(JSON.parse(fs.readFileSync(path.join(env.home, 'local.json'), 'utf8')).servers).toHaveLength(1);
    await up.stop('SIGTERM');
    expect(fs.existsSync(path.join(env.home, 'd', 'server.json'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(env.home, 'local.json'), 'utf8')).servers).toEqual([]);
  });
});

describe('contexts', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: string;
  let bob: string;
  /** A server that records the Authorization header of every request and answers 401. */
  let spy: http.Server;
  let spyUrl: string;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer('sqlite-fs'), startTestServer('sqlite-fs')]);
    alice = (await new StewardClient({ url: a.url, token: a.token }).createToken({ name: 'alice', role: 'developer' })).token;
    bob = (await new StewardClient({ url: b.url, token: b.token }).createToken({ name: 'bob', role: 'viewer' })).token;
    spy = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'unauthenticated', message: 'no token' } }));
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', r));
    spyUrl = `http://127.0.0.1:${(spy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), new Promise((r) => spy?.close(r))]);
  });

  it('saves one context per server, switches between them, and sends each token to its own server only', async () => {
    const env: CliEnv = cliEnv(undefined);
    const config = path.join(env.home, 'config.json');

    let r = await runCli(['login', a.url, '--token', alice], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/logged in to http:\/\/127\.0\.0\.1:\d+ as alice \(developer\)/);
    expect(mode(config)).toBe(0o600);
    // The token on stdin, as `steward login URL < token.txt`.
    r = await runCli(['login', b.url, '--name', 'b'], env, { input: `${bob}\n` });
    expect(r.code, r.stderr).toBe(0);

    const ls = JSON.parse((await runCli(['context', 'ls', '--json'], env)).stdout) as { current: string; contexts: { name: string; url: string; current: boolean }[] };
    const nameA = new URL(a.url).host;
    expect(ls.current).toBe('b');
    expect(ls.contexts).toEqual([{ name: nameA, url: a.url, current: false }, { name: 'b', url: b.url, current: true }]);
    const human = await runCli(['context', 'ls'], env);
    expect(human.stdout).toMatch(/^\*\s+b\s+http/m);
    for (const out of [JSON.stringify(ls), human.stdout]) expect(out).not.toMatch(/stw_/);

    expect(JSON.parse((await runCli(['whoami', '--json'], env)).stdout)).toMatchObject({ name: 'bob', url: b.url });
    expect((await runCli(['context', 'use', nameA], env)).code).toBe(0);
    expect(JSON.parse((await runCli(['whoami', '--json'], env)).stdout)).toMatchObject({ name: 'alice', url: a.url });
    // Naming a server picks the token saved for it, whatever the current context.
    expect(JSON.parse((await runCli(['whoami', '--json', '--server', b.url], env)).stdout)).toMatchObject({ name: 'bob' });
    expect(JSON.parse((await runCli(['whoami', '--json'], { ...env, url: b.url })).stdout)).toMatchObject({ name: 'bob' });
    // --token / STEWARD_TOKEN still win.
    expect(JSON.parse((await runCli(['whoami', '--json', '--server', b.url, '--token', b.token], env)).stdout)).toMatchObject({ name: 'admin' });
    expect(JSON.parse((await runCli(['whoami', '--json'], { ...env, url: b.url, token: b.token })).stdout)).toMatchObject({ name: 'admin' });

    // Another server gets no saved token at all, not even the admin.token of a data dir here.
    fs.mkdirSync(path.join(env.home, '.steward'));
    fs.writeFileSync(path.join(env.home, '.steward', 'admin.token'), a.token);
    const other = await runCli(['ls', '--server', spyUrl], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`no token is saved for ${spyUrl}; run \`steward login ${spyUrl}\``);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h === undefined)).toBe(true);

    r = await runCli(['logout', 'b'], env);
    expect(r.stdout).toContain(`logged out of ${b.url}`);
    const noToken = await runCli(['whoami', '--server', b.url], env);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^error: unauthenticated: /);
    // The current context is still A's; `logout` with no argument forgets it.
    expect((await runCli(['logout'], env)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(config, 'utf8'))).toEqual({ current: null, contexts: [] });
    expect((await runCli(['context', 'use', 'nope'], env)).code).toBe(2);
  });

  it('refuses a wrong token at login and saves nothing; reads a config file written before contexts', async () => {
    const env: CliEnv = cliEnv(undefined);
    const bad = await runCli(['login', a.url, '--token', 'stw_wrong'], env);
    expect(bad.code).toBe(1);
    expect(fs.existsSync(path.join(env.home, 'config.json'))).toBe(false);

    fs.writeFileSync(path.join(env.home, 'config.json'), JSON.stringify({ url: a.url, token: alice }));
    expect(JSON.parse((await runCli(['whoami', '--json'], env)).stdout)).toMatchObject({ name: 'alice', url: a.url });
    expect((await runCli(['context', 'rm', a.url], env)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')).contexts).toEqual([]);
  });
});
