/** `steward up` as a child process on a free port: for tests that kill the server and start it again. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BIN } from './cli.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ChildServer {
  url: string;
  /** The running process (replaced by `restart`). */
  child: ChildProcess;
  log(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same data dir and port, and waits until it is healthy. */
  restart(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  adminToken(): string;
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode ? r() : c.once('exit', () => r())));

export async function startChildServer(dataDir: string, extraEnv: Record<string, string> = {}): Promise<ChildServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const spawnIt = () => {
    const c = spawn(process.execPath, [BIN, 'up', '--data', dataDir, '--port', String(port)], {
      env: { PATH: process.env.PATH ?? '', STEWARD_LOG_LEVEL: 'warn', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    return c;
  };
  const healthy = async () => {
    // Generous: right after a kill the disk may still be flushing on a loaded 2-core machine.
    for (let i = 0; i < 4800; i++) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server at ${url} did not become healthy:\n${output.slice(-2000)}`);
  };
  const s: ChildServer = {
    url,
    child: spawnIt(),
    log: () => output,
    async kill() {
      s.child.kill('SIGKILL');
      await exited(s.child);
    },
    async restart() {
      s.child = spawnIt();
      await healthy();
    },
    async stop() {
      s.child.kill('SIGTERM');
      await exited(s.child);
    },
    adminToken: () => fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim(),
  };
  await healthy();
  return s;
}
