/**
 * Local side of a push: list a directory's files and remember their hashes by (device, inode,
 * size, mtime), so a re-push of unchanged files costs a stat, not a read — the same trick as
 * git's index and DVC's state — and remember the upload sessions a push started, so the next
 * run resumes them. (The hashing itself is in hash-worker.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { filePathProblem } from '../../contracts/asset-names.js';

export interface LocalFile {
  /** Manifest path: relative, "/"-separated. */
  path: string;
  abs: string;
  size: number;
  sha256: string;
}

interface Listed {
  path: string;
  abs: string;
  size: number;
  key: string;
}

/**
 * Every regular file under `dir` (symlinks to files are followed; `.git` and `.steward-*` are
 * skipped). Synchronous calls: a listing is thousands of tiny syscalls, each a pool round trip
 * when asynchronous, and a warm re-push does little else.
 */
export async function listFiles(dir: string): Promise<Listed[]> {
  const root = path.resolve(dir);
  const st = fs.statSync(root, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const out: Listed[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      if (e.name === '.git' || e.name.startsWith('.steward-')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(root, r);
      const s = fs.statSync(abs);
      if (s.isDirectory()) walk(r);
      else if (s.isFile()) {
        const problem = filePathProblem(r);
        if (problem) throw new Error(`file ${JSON.stringify(r)} cannot be pushed: its path ${problem}`);
        out.push({ path: r, abs, size: s.size, key: `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` });
      }
    }
  };
  walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A JSON map in a file, written whole through a temp file and a rename (never half-written). */
class JsonMap {
  protected map: Record<string, string>;
  constructor(private readonly file: string) {
    try {
      this.map = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.map = {};
    }
  }
  protected write(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.map));
    fs.renameSync(tmp, this.file);
  }
}

/** File hashes by path and (device, inode, size, mtime); saved once at the end of a push. */
export class HashCache extends JsonMap {
  private dirty = false;
  get(abs: string, key: string): string | undefined {
    return this.map[`${abs}\0${key}`];
  }
  set(abs: string, key: string, sha: string): void {
    this.map[`${abs}\0${key}`] = sha;
    this.dirty = true;
  }
  save(): void {
    if (this.dirty) this.write();
  }
}

/**
 * Upload sessions this machine started, by server and sha (or, for a one-pass upload, by file
 * identity), so a re-run resumes them; written at every change, as a kill may come any time.
 */
export class SessionMemory extends JsonMap {
  get = (k: string) => this.map[k];
  /** Whether sessions of blobs by sha256 are remembered for `url`: an interrupted push to resume. */
  holdsBlobSessions(url: string): boolean {
    return Object.keys(this.map).some((k) => k.startsWith(`${url}|`) && !k.startsWith(`${url}|file:`));
  }
  set(k: string, id: string | undefined): void {
    if (id) this.map[k] = id;
    else delete this.map[k];
    this.write();
  }
}

/** Runs `fn` over `items` with at most `n` at once, failing fast on the first error. */
export async function eachLimit<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const worker = async () => {
    while (failed === null && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failed !== null) throw failed;
}
