/**
 * `steward demo` end to end (issue 15, item 7): the real binary runs the whole story on the tiny
 * built-in model in its own embedded server, and its JSON outcome says the story happened — both
 * versions pushed and evaluated, production on 1.0.0, the canary with the injected fault aborted
 * by the analysis, traffic back on stable, the audit chain verified — and the data dir is gone.
 * The narrated form is checked for its step lines; a non-empty --data is refused before anything starts.
 */
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli } from './helpers/cli.js';

interface DemoJson {
  dataDir: string;
  kept: boolean;
  totalMs: number;
  steps: { step: string; message: string; ms: number }[];
  pushed: string[];
  evaluations: { version: string; state: string; passed: boolean | null; metrics: Record<string, number | null> }[];
  production: string | null;
  rollout: { id: string; state: string; reason: string | null; candidateDeployment: string | null; faultToStableMs: number | null; abortedAfterMs: number | null };
  load: { sent: number; byStatus: Record<string, number>; byDeployment: Record<string, number> };
  audit: { ok: boolean; events: number };
  timeline: { kind: string; message: string }[];
  events: Record<string, number>;
}

describe('steward demo', () => {
  it('runs the lifecycle story: push, evaluate, promote, faulty canary rolled back by its analysis, audit verified', async () => {
    const env = cliEnv();
    const t0 = performance.now();
    const out = await runCli(['demo', '--json'], env);
    const wallMs = performance.now() - t0;
    expect(out.code, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout) as DemoJson;

    expect(r.pushed).toEqual(['demo/tiny-chat:1.0.0', 'demo/tiny-chat:2.0.0']);
    expect(r.evaluations.map((e) => [e.version, e.state, e.passed])).toEqual([['1.0.0', 'succeeded', true], ['2.0.0', 'succeeded', true]]);
    for (const e of r.evaluations) expect(e.metrics.latency_p95).toBeGreaterThan(0);
    expect(r.production).toBe('1.0.0');
    expect(r.rollout.state).toBe('aborted');
    expect(r.rollout.reason).toMatch(/analysis failed.*error-rate/);
    expect(r.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['state', 'step', 'analysis']));
    expect(r.timeline.at(-1)!.message).toMatch(/^aborted/);
    // The faulty canary did take traffic, and the fault showed in what it answered the gateway.
    expect(r.load.byDeployment[r.rollout.candidateDeployment!]).toBeGreaterThan(0);
    expect(r.rollout.faultToStableMs).not.toBeNull();
    expect(r.audit.ok).toBe(true);
    expect(r.audit.events).toBeGreaterThan(20);
    expect(r.events['rollout.aborted']).toBe(1);
    expect(r.events['eval.run.finished']).toBe(2);
    expect(r.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['push', 'evaluate', 'promote', 'fault', 'rollback', 'audit', 'stop']));
    // Nothing left behind: the temporary data dir is removed (no --keep).
    expect(r.kept).toBe(false);
    expect(fs.existsSync(r.dataDir)).toBe(false);
    console.log(
      `steward demo --json: ${(wallMs / 1000).toFixed(1)} s wall; faulty canary (20% errors at 50% of ${r.load.sent} requests) → traffic fully back on stable ${r.rollout.faultToStableMs} ms after its first request (rollout aborted ${r.rollout.abortedAfterMs} ms after its step began); answers by status ${JSON.stringify(r.load.byStatus)}`,
    );
  }, 180_000);

  it('narrates each step and keeps its data with --keep', async () => {
    const env = cliEnv();
    const data = path.join(env.home, 'demo-data');
    const out = await runCli(['demo', '--data', data, '--keep'], env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^✓ push +pushed demo\/tiny-chat:1\.0\.0/m);
    expect(out.stdout).toMatch(/^✓ rollback +analysis failed → rollout aborted/m);
    expect(out.stdout).toMatch(/^✓ audit +audit chain verified/m);
    expect(out.stdout).toContain('Rollout timeline:');
    expect(out.stdout).toMatch(/production +1\.0\.0/);
    expect(out.stdout).toContain(`data kept in ${data}`);
    expect(fs.existsSync(path.join(data, 'steward.db'))).toBe(true);
  }, 180_000);

  it('refuses a data dir that is not empty, before starting anything', async () => {
    const env = cliEnv();
    const data = path.join(env.home, 'used');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'something'), 'x');
    const out = await runCli(['demo', '--data', data], env);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('is not empty: the demo starts from nothing');
    expect(fs.readdirSync(data)).toEqual(['something']);
  });

  it('says which port is taken and what to do, and leaves no data dir behind', async () => {
    const env = cliEnv();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const out = await runCli(['demo', '--port', String(port)], env, { extraEnv: { TMPDIR: env.home } });
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`127.0.0.1:${port} is in use; run the demo on another port with --port N (0 picks a free one)`);
      expect(fs.readdirSync(env.home).filter((f) => f.startsWith('steward-demo-'))).toEqual([]);
    } finally {
      taken.close();
    }
  });
});
