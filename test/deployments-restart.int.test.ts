/**
 * `steward deploy` through the real binary against `steward up` in a child process; then the
 * control plane is killed with SIGKILL while the replica serves: after the restart the replica is
 * adopted (same pid, still one process, nothing orphaned or duplicated), and stops on request.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DeploymentPage, DeploymentResponse } from '../src/contracts/deployments.js';
import { isAlive } from '../src/features/deployments/deployments-local.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { apiClient, expectBody } from './helpers/test-api.js';

const FAKE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'helpers/fake-openai-main.ts');

let server: ChildServer | undefined;
const pids: number[] = [];
afterAll(async () => {
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await server?.stop();
});

describe('deployments across a SIGKILL of the control plane', () => {
  it('deploys through the CLI, then adopts the running replica after the restart instead of starting another', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-deploy-'));
    server = await startChildServer(dataDir);
    const api = apiClient({ url: server.url, token: server.adminToken() });
    await pushModel(api, 'acme/bot', '1.0.0');
    const env = cliEnv(server.url, server.adminToken());
    const t0 = performance.now();
    const out = await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--replicas', '1', '--arg', process.execPath, '--arg', '--import', '--arg', 'tsx', '--arg', FAKE, '--arg', '--port', '--arg', '{port}', '--json'], env, { cwd: process.cwd() });
    expect(out.code, out.stderr).toBe(0);
    const d = DeploymentResponse.parse(JSON.parse(out.stdout));
    console.log(`steward deploy (fake OpenAI server under tsx) → ready: ${(performance.now() - t0).toFixed(0)} ms, process start of the CLI included`);
    expect(d.state).toBe('ready');
    const pid = d.replicaStatus[0]!.pid!;
    pids.push(pid);
    expect(isAlive(pid)).toBe(true);

    await server.kill();
    expect(isAlive(pid)).toBe(true);
    await server.restart();
    // Give the restarted control plane a few reconciliations.
    let after: DeploymentResponse | undefined;
    for (let i = 0; i < 100; i++) {
      after = expectBody(await api.get(`/api/v1/deployments/${d.id}`), 200, DeploymentResponse);
      if (after.state === 'ready' && i >= 20) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(after).toMatchObject({ state: 'ready', replicaStatus: [{ index: 0, pid, restarts: 0 }] });
    const logs = fs.readFileSync(path.join(dataDir, 'deployments', 'logs', d.id, 'replica-0.log'), 'utf8');
    expect(logs.match(/starting:/g)).toHaveLength(1);

    const ls = await runCli(['deployments', 'ls', '--json'], env);
    expect(DeploymentPage.parse(JSON.parse(ls.stdout)).items.map((x) => x.id)).toEqual([d.id]);
    const stop = await runCli(['deployments', 'stop', d.id], env);
    expect(stop.code, stop.stderr).toBe(0);
    for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(isAlive(pid)).toBe(false);
  }, 120_000);
});
