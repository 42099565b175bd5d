/**
 * Who may read what Steward writes on disk: the data dir, the SQLite database (and its WAL and
 * SHM files), the blob store's directories and files, upload sessions and temp files. The rule:
 * owner only (directories 0700, files 0600) whatever the process umask, or owner and group
 * (0750 / 0640) when the operator sets `dataDirGroupAccess`; never other users.
 *
 * Modes are set explicitly (chmod after create), not left to the umask: an umask of 022 would
 * make every file world-readable, and prompts, metadata and token hashes live in these files.
 * A directory that exists already is set to the mode at start (with a warning when that takes
 * access away from someone); the files inside it are not walked (a blob store may hold millions),
 * and need not be: nobody else can reach them through a directory they cannot enter.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface FileModes {
  dir: number;
  file: number;
}

/** The modes of everything written under the data dir. */
export function fileModes(groupAccess: boolean): FileModes {
  return groupAccess ? { dir: 0o750, file: 0o640 } : { dir: 0o700, file: 0o600 };
}

/** Owner only: the default of every store opened without explicit modes (tests, tools). */
export const PRIVATE_MODES: FileModes = fileModes(false);

/** Told when an existing directory or file was readable by more users than the modes allow. */
export type OnTightened = (what: { path: string; was: number; now: number }) => void;

const octal = (m: number) => `0${(m & 0o777).toString(8)}`;
export const describeTightened = (t: { path: string; was: number; now: number }) =>
  `${t.path} was mode ${octal(t.was)}, readable by other users; set to ${octal(t.now)}`;

/**
 * Sets `p` to `mode` when it differs; reports when that removed access. Missing paths are
 * skipped. These are paths the operator configured (a data dir may be a link to a volume), so a
 * link is followed.
 */
function setMode(p: string, mode: number, onTightened?: OnTightened): void {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return;
  const was = st.mode & 0o777;
  if (was === mode) return;
  try {
    fs.chmodSync(p, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot set ${p} (mode ${octal(was)}) to mode ${octal(mode)}: ${code ?? String(err)}; run Steward as the owner of ${p}, or give it that mode yourself`, { cause: err });
  }
  if (was & ~mode) onTightened?.({ path: p, was, now: mode });
}

/** Creates `dir` and its missing parents with the directory mode (whatever the umask); an existing directory is left as it is. */
export function createDirs(dir: string, modes: FileModes): boolean {
  const first = fs.mkdirSync(dir, { recursive: true, mode: modes.dir });
  if (!first) return false;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    fs.chmodSync(d, modes.dir);
    if (d === first || d === path.dirname(d)) break;
  }
  return true;
}

/** `createDirs`, for directories a store creates as it goes (a blob's fan-out directory). */
export async function createDirsAsync(dir: string, modes: FileModes): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true, mode: modes.dir });
  if (!first) return;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    await fsp.chmod(d, modes.dir);
    if (d === first || d === path.dirname(d)) break;
  }
}

/** A directory Steward owns (the data dir, the blob root): created with the mode, or set to it. */
export function ensureDir(dir: string, modes: FileModes, onTightened?: OnTightened): void {
  if (!createDirs(dir, modes)) setMode(dir, modes.dir, onTightened);
}

/** Sets existing files to the file mode (the database and its WAL/SHM at start); missing ones are skipped. */
export function setFileModes(files: readonly string[], modes: FileModes, onTightened?: OnTightened): void {
  for (const f of files) setMode(f, modes.file, onTightened);
}
