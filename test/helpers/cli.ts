/** Runs the real `bin/steward` binary (built into dist/ by `npm test`) as a child process. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/steward');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  url: string;
  token?: string;
  /** Private cache and config dirs, so tests never share a hash cache or a login. */
  home: string;
}

export function cliEnv(url: string, token?: string): CliEnv {
  return { url, token, home: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-')) };
}

export function runCli(args: string[], env: CliEnv, opts: { cwd?: string; extraEnv?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? env.home,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: env.home,
        STEWARD_URL: env.url,
        ...(env.token ? { STEWARD_TOKEN: env.token } : {}),
        STEWARD_CACHE_DIR: path.join(env.home, 'cache'),
        STEWARD_CONFIG: path.join(env.home, 'config.json'),
        ...opts.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
