import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirs, ensureDir, fileModes, setFileModes } from './data-dir.js';

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('data dir modes', () => {
  let umask: number;
  beforeAll(() => {
    umask = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(umask);
  });

  it('creates every missing directory with the mode, whatever the umask, and leaves existing parents alone', () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-dd-'));
    fs.chmodSync(parent, 0o755);
    const leaf = path.join(parent, 'a', 'b', 'c');
    expect(createDirs(leaf, fileModes(true))).toBe(true);
    for (const d of ['a', 'a/b', 'a/b/c']) expect(mode(path.join(parent, d)), d).toBe(0o750);
    expect(mode(parent)).toBe(0o755);
    expect(createDirs(leaf, fileModes(false))).toBe(false);
    expect(mode(leaf)).toBe(0o750);
  });

  it('sets an existing directory or file to the mode, telling only when that took access away', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-dd-'));
    const file = path.join(dir, 'db');
    fs.writeFileSync(file, '');
    fs.chmodSync(file, 0o644);
    fs.chmodSync(dir, 0o700);
    const told: string[] = [];
    const tell = (t: { path: string; was: number; now: number }) => told.push(`${path.basename(t.path)} ${t.was.toString(8)}->${t.now.toString(8)}`);
    ensureDir(dir, fileModes(true), tell);
    setFileModes([file, `${file}-wal`], fileModes(false), tell);
    expect(mode(dir)).toBe(0o750);
    expect(mode(file)).toBe(0o600);
    // Widening the directory for the group took nothing away; the file lost its world read.
    expect(told).toEqual(['db 644->600']);
  });
});
