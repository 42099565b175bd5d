/**
 * The local driver: replicas as child processes of this host. A replica is started detached, in
 * its own process group, with its output appended to a log file, so it outlives a restart of the
 * control plane (which adopts it by pid and a readiness probe). It gets a minimal environment
 * (PATH, HOME, locale, what the deployment sets): never the control plane's secrets.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { AppError } from '../../platform/errors.js';

/** The executable `cmd` names: a path as given, else the first match on PATH; null when there is none. */
export function findExecutable(cmd: string, envPath = process.env.PATH ?? ''): string | null {
  const ok = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return ok(path.resolve(cmd)) ? path.resolve(cmd) : null;
  for (const dir of envPath.split(path.delimiter)) if (dir && ok(path.join(dir, cmd))) return path.join(dir, cmd);
  return null;
}

export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'];

export function createLocalDriver(opts: { logRoot: string }) {
  const logFile = (id: string, idx: number) => path.join(opts.logRoot, id, `replica-${idx}.log`);
  return {
    logFile,

    /** Spawns one replica; resolves once the process exists (or rejects with why it could not start). */
    async spawn(id: string, idx: number, cmd: { cmd: string; args: string[]; env: Record<string, string> }): Promise<number> {
      const file = logFile(id, idx);
      await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const fd = fs.openSync(file, 'a', 0o600);
      const env: Record<string, string> = {};
      for (const k of BASE_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
      Object.assign(env, cmd.env);
      try {
        fs.writeSync(fd, `--- ${new Date().toISOString()} starting: ${[cmd.cmd, ...cmd.args].join(' ')}\n`);
        const child = spawn(cmd.cmd, cmd.args, { detached: true, stdio: ['ignore', fd, fd], env });
        const pid = await new Promise<number>((resolve, reject) => {
          child.once('spawn', () => resolve(child.pid!));
          child.once('error', (err) => reject(new AppError('failed_precondition', `could not start ${cmd.cmd}: ${err.message}`, { command: cmd.cmd })));
        });
        child.unref();
        return pid;
      } finally {
        fs.closeSync(fd);
      }
    },

    /** SIGTERM to the replica's process group, SIGKILL after `graceMs`; resolves once it is gone. */
    async stop(pid: number, graceMs = 10_000): Promise<void> {
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-pid, s);
        } catch {
          try {
            process.kill(pid, s);
          } catch {
            // gone already
          }
        }
      };
      if (!isAlive(pid)) return;
      signal('SIGTERM');
      const end = Date.now() + graceMs;
      while (isAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(pid)) signal('SIGKILL');
      while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
    },

    /** One readiness or liveness probe: ok, or why not. */
    async probe(url: string, timeoutMs: number, apiKey?: string): Promise<{ ok: true } | { ok: false; reason: string }> {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {}) });
        await res.body?.cancel();
        return res.ok ? { ok: true } : { ok: false, reason: `${url} answered ${res.status}` };
      } catch (err) {
        return { ok: false, reason: `${url}: ${(err as Error).message}` };
      }
    },

    /** The last `n` lines of a replica's log. */
    async tail(id: string, idx: number, n: number): Promise<string[]> {
      const text = await fsp.readFile(logFile(id, idx), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return lines.slice(-n);
    },
  };
}

export type LocalDriver = ReturnType<typeof createLocalDriver>;
