/**
 * `steward env|promote|approve|reject|promotions|rollback` as a user runs them: the real binary
 * against a real server (SQLite + files). Exit codes follow the request's outcome; `--wait`
 * returns once someone else approves; `rollback` prints its time (the figure, measured
 * here from the command's start to the pointer moved, as the user sees it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentList, PointerHistory, PromotionPage, PromotionResponse } from '../src/contracts/promotions.js';
import { StewardClient } from '../src/sdk/client.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;
let approver: CliEnv;

beforeAll(async () => {
  server = await startTestServer('sqlite-fs', { jobPollIntervalMs: 50, eventPollMs: 20 });
  env = cliEnv(server.url, server.token);
  const admin = new StewardClient({ url: server.url, token: server.token });
  approver = cliEnv(server.url, (await admin.createToken({ name: 'alice', role: 'approver' })).token);
  const model = fs.mkdtempSync(path.join(env.home, 'model-'));
  fs.writeFileSync(path.join(model, 'config.json'), '{"arch":"llama"}');
  for (const v of ['1.0.0', '2.0.0']) {
    fs.writeFileSync(path.join(model, 'weights.bin'), `weights ${v}`);
    const r = await runCli(['push', model, '--model', 'acme/bot', '--version', v, '--no-progress'], env);
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => {
  await server?.stop();
});

describe('steward env, promote, approve, rollback', () => {
  it('lists and edits environments', async () => {
    const ls = await runCli(['env', 'ls'], env);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/development\s+\*\s+-\s+no/);
    expect(ls.stdout).toMatch(/production\s+\*\s+staging\s+yes ≥0.9\s+0\s+1 approver\s+3/);
    const set = await runCli(['env', 'set', 'fast', '--description', 'no gates', '--order', '15'], env);
    expect(set.code, set.stderr).toBe(0);
    const gated = await runCli(['env', 'set', 'gated', '--approvals', '1', '--approval-timeout', '1h'], env);
    expect(gated.code, gated.stderr).toBe(0);
    const bad = await runCli(['env', 'set', 'gated', '--gate', 'exact_match >> 1'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('exact_match >> 1');
    const forbidden = await runCli(['env', 'set', 'mine'], approver);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('permission_denied');
    const json = EnvironmentList.parse(JSON.parse((await runCli(['env', 'ls', '--json'], env)).stdout));
    expect(json.items.map((e) => e.name)).toEqual(expect.arrayContaining(['development', 'fast', 'gated', 'staging', 'production']));
  });

  it('promotes, refuses with reasons and exit 1, reserves environment names, and rolls back', async () => {
    for (const v of ['1.0.0', '2.0.0']) {
      const r = await runCli(['promote', `acme/bot:${v}`, '--to', 'fast'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`acme/bot:${v} → fast  COMPLETED`);
    }
    const rejected = await runCli(['promote', 'acme/bot:1.0.0', '--to', 'staging'], env);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('REJECTED');
    expect(rejected.stdout).toContain('no succeeded evaluation run');
    const skip = await runCli(['promote', 'acme/bot:1.0.0', '--to', 'production'], env);
    expect(skip.code).toBe(1);
    expect(skip.stderr).toContain('steward promote acme/bot:1.0.0 --to staging');
    const alias = await runCli(['alias', 'set', 'acme/bot', 'production', '1.0.0'], env);
    expect(alias.code).toBe(1);
    expect(alias.stderr).toContain('steward promote');

    const t0 = performance.now();
    const back = await runCli(['rollback', 'acme/bot', '--env', 'fast', '--reason', 'bad answers'], env);
    const wall = performance.now() - t0;
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/^fast: acme\/bot 2\.0\.0 → 1\.0\.0 \(rolled back in \d+ ms\)/);
    console.log(`steward rollback: ${back.stdout.trim()}; whole command ${wall.toFixed(0)} ms (process start included)`);
    expect(wall).toBeLessThan(5000);
    const none = await runCli(['rollback', 'acme/bot', '--env', 'fast'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--to VERSION');

    const hist = PointerHistory.parse(JSON.parse((await runCli(['env', 'history', 'acme/bot', '--env', 'fast', '--json'], env)).stdout));
    expect(hist.items.map((m) => [m.kind, m.version])).toEqual([
      ['rollback', '1.0.0'],
      ['promotion', '2.0.0'],
      ['promotion', '1.0.0'],
    ]);
    const show = await runCli(['show', 'acme/bot:1.0.0'], env);
    expect(show.stdout).toMatch(/^in\s+.*fast \(since/m);
  });

  it('--wait returns once another user approves; the inbox lists the request', async () => {
    const waiting = runCli(['promote', 'acme/bot:2.0.0', '--to', 'gated', '--wait', '--comment', 'ship it'], env);
    let id: string | undefined;
    for (let i = 0; i < 200 && !id; i++) {
      const inbox = PromotionPage.parse(JSON.parse((await runCli(['promotions', 'ls', '--state', 'pending', '--json'], approver)).stdout));
      id = inbox.items.find((p) => p.to === 'gated')?.id;
      if (!id) await new Promise((r) => setTimeout(r, 100));
    }
    expect(id).toBeDefined();
    const own = await runCli(['approve', id!], env);
    expect(own.code).toBe(1);
    expect(own.stderr).toContain('another approver');
    const ok = await runCli(['approve', id!, '--comment', 'looks good'], approver);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('COMPLETED');
    const done = await waiting;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('acme/bot:2.0.0 → gated  COMPLETED');
    expect(done.stdout).toContain('approve by alice');
    const shown = PromotionResponse.parse(JSON.parse((await runCli(['promotions', 'show', id!, '--json'], env)).stdout));
    expect(shown).toMatchObject({ state: 'completed', comment: 'ship it' });
    const reject = await runCli(['reject', id!], approver);
    expect(reject.code).toBe(2);
    expect(reject.stderr).toContain('--comment');
  });
});
