/**
 * Local side of a push: list a directory's files and remember their hashes by (device, inode,
 * size, mtime), so a re-push of unchanged files costs a stat, not a read — the same trick as
 * git's index and DVC's state — and remember the upload sessions a push started, so the next
 * run resumes them. (The hashing itself is in hash-worker.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { filePathProblem, normalizeFilePath } from '../../contracts/asset-names.js';

export interface LocalFile {
  /** Manifest path: relative, "/"-separated, Unicode NFC (as the server stores it). */
  path: string;
  abs: string;
  size: number;
  sha256: string;
}

export interface Listed {
  path: string;
  /** The file read: for a symbolic link, the file it resolves to. */
  abs: string;
  size: number;
  key: string;
}

/** A symbolic link the listing did not follow, and why. */
export interface SkippedLink {
  /** Its path under the directory. */
  path: string;
  /** `outside`: it resolves outside the directory; `broken`: to nothing; `loop`: to a directory it is inside of. */
  reason: 'outside' | 'broken' | 'loop';
  /** Where it leads (the link's text when broken). */
  target: string;
}

export interface ListOptions {
  /** gitignore-style patterns (`--exclude`), in addition to the directory's `.stewardignore`. */
  exclude?: readonly string[] | undefined;
  /** Follow symbolic links that resolve outside the directory too (off: they are skipped and reported). */
  followExternalLinks?: boolean | undefined;
}

export interface Listing {
  files: Listed[];
  skipped: SkippedLink[];
}

/** The file at a pushed directory's root whose gitignore-style patterns name what is not pushed. */
export const IGNORE_FILE = '.stewardignore';

/**
 * Every regular file under `dir`, less what `.stewardignore` and `exclude` name (gitignore
 * syntax, through the `ignore` package; an excluded directory is not entered), `.git`,
 * `.steward-*` and `.stewardignore` itself. Symbolic links that stay inside the directory are
 * followed (a link to a directory the walk is already inside of is a loop, skipped); links that
 * lead outside it are skipped and reported, unless `followExternalLinks`: a directory prepared
 * by someone else must not make a push upload `/etc/passwd`. Broken links are skipped too.
 * Paths are in NFC; two files whose names are one in NFC are refused. Synchronous calls: a
 * listing is thousands of tiny syscalls, each a pool round trip when asynchronous, and a warm
 * re-push does little else.
 */
export async function listFiles(dir: string, opts: ListOptions = {}): Promise<Listing> {
  const given = path.resolve(dir);
  const st = fs.statSync(given, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new Error(`${dir} is not a directory`);
  // The directory itself may be reached through a link: "inside" means inside what it resolves to.
  const root = fs.realpathSync(given);
  const isInside = (p: string) => {
    const rel = path.relative(root, p);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  const ignored = await ignoreRules(root, opts.exclude ?? []);
  const files: Listed[] = [];
  const skipped: SkippedLink[] = [];
  const seen = new Map<string, string>();

  const walk = (rel: string, absDir: string, within: readonly string[]): void => {
    for (const e of fs.readdirSync(absDir, { withFileTypes: true })) {
      if (e.name === '.git' || e.name.startsWith('.steward-') || (rel === '' && e.name === IGNORE_FILE)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const nfc = normalizeFilePath(r);
      let abs = path.join(absDir, e.name);
      let s = fs.lstatSync(abs);
      if (s.isSymbolicLink()) {
        let real: string;
        try {
          real = fs.realpathSync(abs);
          s = fs.statSync(real);
        } catch {
          if (!ignored(nfc, false)) skipped.push({ path: nfc, reason: 'broken', target: fs.readlinkSync(abs) });
          continue;
        }
        if (ignored(nfc, s.isDirectory())) continue;
        if (!isInside(real) && !opts.followExternalLinks) {
          skipped.push({ path: nfc, reason: 'outside', target: real });
          continue;
        }
        abs = real;
      } else if (ignored(nfc, s.isDirectory())) continue;
      if (s.isDirectory()) {
        if (within.includes(abs)) skipped.push({ path: nfc, reason: 'loop', target: abs });
        else walk(r, abs, [...within, abs]);
      } else if (s.isFile()) {
        const problem = filePathProblem(nfc);
        if (problem) throw new Error(`file ${JSON.stringify(r)} cannot be pushed: its path ${problem}`);
        const twin = seen.get(nfc);
        if (twin !== undefined) throw new Error(`files ${JSON.stringify(twin)} and ${JSON.stringify(r)} cannot both be pushed: their names are the same text in Unicode NFC (rename one)`);
        seen.set(nfc, r);
        files.push({ path: nfc, abs, size: s.size, key: `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` });
      }
    }
  };
  walk('', root, [root]);
  return { files: files.sort((a, b) => (a.path < b.path ? -1 : 1)), skipped };
}

/** Whether a path (NFC, relative, "/"-separated) is excluded; the `ignore` package is loaded only when there are patterns. */
async function ignoreRules(root: string, exclude: readonly string[]): Promise<(p: string, isDir: boolean) => boolean> {
  let fromFile = '';
  try {
    fromFile = fs.readFileSync(path.join(root, IGNORE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!fromFile.trim() && !exclude.length) return () => false;
  const { default: ignore } = await import('ignore');
  const ig = ignore().add(fromFile).add([...exclude]);
  return (p, isDir) => ig.ignores(isDir ? `${p}/` : p);
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
