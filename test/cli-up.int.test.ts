/**
 * `steward up` as a first-time user meets it (the real binary): a busy port is refused with a
 * hint and leaves no admin token behind; the first successful start shows the token and where it
 * is saved; every later start says where the token file is.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli } from './helpers/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs `steward up` until its start-up message is out, then stops it with SIGTERM; answers what it printed. */
function upUntilStarted(dataDir: string): Promise<{ stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'up', '--data', dataDir, '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', HOME: dataDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // The last line of either start-up message.
      if (/(reads it from there; elsewhere set STEWARD_TOKEN\.\n\n|admin token: .*\n)$/.test(stderr)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stderr, code });
    });
  });
}

describe('steward up', () => {
  it('refuses a busy port with a hint about --port and creates no admin token; the next start shows it once, later starts say where it is', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-up-'));
    dirs.push(dataDir);
    const tokenFile = path.join(dataDir, 'admin.token');

    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const refused = await runCli(['up', '--data', dataDir, '--port', String(port)], cliEnv('http://127.0.0.1:9'));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--port`));
      expect(fs.existsSync(tokenFile)).toBe(false);
    } finally {
      busy.close();
    }

    const first = await upUntilStarted(dataDir);
    expect(first.stderr).toContain(`First start: created an admin token. It is shown once here and saved (mode 0600) to\n  ${tokenFile}`);
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    expect(first.stderr).toContain(`\n  ${token}\n`);

    const later = await upUntilStarted(dataDir);
    expect(later.stderr).toContain(`admin token: ${tokenFile}`);
    expect(later.stderr).not.toContain(token);
    expect(fs.readFileSync(tokenFile, 'utf8').trim()).toBe(token);
  });
});
