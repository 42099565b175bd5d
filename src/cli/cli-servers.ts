/**
 * Servers started on this host by `steward up` / `steward server`, so that the CLI finds them
 * from any directory. Each records where it listens in two places (both mode 0600):
 *   - `<dataDir>/server.json`: the server of that data dir (`--data`, STEWARD_DATA, ./.steward);
 *   - `local.json` beside the CLI config file: every server this user started, newest first.
 * A record names the server's process; one whose process is gone (a crash, SIGKILL) is ignored,
 * and dropped at the next write. A clean exit removes its own records.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface LocalServer {
  url: string;
  pid: number;
  dataDir: string;
  /** The admin token file the server wrote on its first start; the CLI reads the token there. */
  tokenFile: string;
  startedAt: string;
}

const SERVER_FILE = 'server.json';
const LOCAL_FILE = 'local.json';

/** Whether process `pid` still runs (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isRecord(x: unknown): x is LocalServer {
  const r = x as Partial<LocalServer> | null;
  return typeof r?.url === 'string' && typeof r.pid === 'number' && typeof r.dataDir === 'string' && typeof r.tokenFile === 'string';
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The running server recorded in `dataDir`, or null. */
export function liveServerIn(dataDir: string): LocalServer | null {
  const r = readJson(path.join(dataDir, SERVER_FILE));
  return isRecord(r) && processAlive(r.pid) ? r : null;
}

function recordsIn(configDir: string): LocalServer[] {
  const r = readJson(path.join(configDir, LOCAL_FILE)) as { servers?: unknown } | null;
  return Array.isArray(r?.servers) ? r.servers.filter(isRecord) : [];
}

/** The running servers this user started on this host, newest first. */
export function liveServers(configDir: string): LocalServer[] {
  return recordsIn(configDir).filter((s) => processAlive(s.pid));
}

/** A URL the CLI on this host can call: a server bound to every address is reached on loopback. */
export function localUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  else if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

/**
 * Records this process's server in its data dir and in `configDir/local.json`; the records are
 * removed when the process exits (a crash leaves them, and readers skip them: the pid is gone).
 * Recording is a convenience: a failure to write is reported through `onError`, not thrown.
 */
export function recordLocalServer(s: Omit<LocalServer, 'pid' | 'startedAt'>, configDir: string, onError: (err: unknown) => void = () => undefined): LocalServer {
  const rec: LocalServer = { url: localUrl(s.url), pid: process.pid, dataDir: s.dataDir, tokenFile: s.tokenFile, startedAt: new Date().toISOString() };
  const serverFile = path.join(s.dataDir, SERVER_FILE);
  const localFile = path.join(configDir, LOCAL_FILE);
  try {
    writeJson(serverFile, rec);
    writeJson(localFile, { servers: [rec, ...liveServers(configDir).filter((x) => x.pid !== rec.pid)] });
  } catch (err) {
    onError(err);
  }
  process.once('exit', () => {
    try {
      const mine = readJson(serverFile) as { pid?: unknown } | null;
      if (mine?.pid === rec.pid) fs.rmSync(serverFile, { force: true });
      const rest = recordsIn(configDir).filter((x) => x.pid !== rec.pid && processAlive(x.pid));
      if (fs.existsSync(localFile)) writeJson(localFile, { servers: rest });
    } catch {
      // Exiting anyway; a stale record is skipped by readers.
    }
  });
  return rec;
}
