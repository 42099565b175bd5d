/**
 * Local side of a push: list a directory's files, hash each once (streaming, never a whole
 * file in memory), and remember the hashes by (device, inode, size, mtime) so a re-push of
 * unchanged files costs a stat, not a read — the same trick as git's index and DVC's state.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { filePathProblem } from '../contracts/assets.js';

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

/** Every regular file under `dir` (symlinks to files are followed; `.git` and `.steward-*` are skipped). */
export async function listFiles(dir: string): Promise<Listed[]> {
  const root = path.resolve(dir);
  const st = await fsp.stat(root).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const out: Listed[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name === '.git' || e.name.startsWith('.steward-')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(root, r);
      const s = await fsp.stat(abs);
      if (s.isDirectory()) await walk(r);
      else if (s.isFile()) {
        const problem = filePathProblem(r);
        if (problem) throw new Error(`file ${JSON.stringify(r)} cannot be pushed: its path ${problem}`);
        out.push({ path: r, abs, size: s.size, key: `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` });
      }
    }
  }
  await walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export async function hashFile(abs: string, onBytes: (n: number) => void): Promise<string> {
  const h = createHash('sha256');
  // 4 MiB reads: large enough that syscalls vanish next to hashing at ~1.5 GB/s.
  for await (const chunk of fs.createReadStream(abs, { highWaterMark: 4 << 20 })) {
    h.update(chunk as Buffer);
    onBytes((chunk as Buffer).length);
  }
  return h.digest('hex');
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

/** Hashes what the cache does not know; `onBytes` reports bytes actually read. */
export async function hashAll(files: Listed[], cache: HashCache | null, onBytes: (n: number) => void): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  for (const f of files) {
    let sha = cache?.get(f.abs, f.key);
    if (!sha) {
      sha = await hashFile(f.abs, onBytes);
      cache?.set(f.abs, f.key, sha);
    } else {
      onBytes(f.size);
    }
    out.push({ path: f.path, abs: f.abs, size: f.size, sha256: sha });
  }
  return out;
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
