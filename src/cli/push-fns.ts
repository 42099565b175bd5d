/**
 * Local side of a push: list a directory's files and remember their hashes by (device, inode,
 * size, mtime), so a re-push of unchanged files costs a stat, not a read — the same trick as
 * git's index and DVC's state. (The hashing itself is in hash-worker.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { filePathProblem } from '../contracts/asset-names.js';

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

export class HashCache {
  private entries: Record<string, string> = {};
  private dirty = false;
  constructor(private readonly file: string) {
    try {
      this.entries = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.entries = {};
    }
  }
  get(abs: string, key: string): string | undefined {
    return this.entries[`${abs}\0${key}`];
  }
  set(abs: string, key: string, sha: string): void {
    this.entries[`${abs}\0${key}`] = sha;
    this.dirty = true;
  }
  save(): void {
    if (!this.dirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.entries));
    fs.renameSync(tmp, this.file);
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
