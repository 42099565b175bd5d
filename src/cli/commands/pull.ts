/**
 * `steward pull NAME:REF`: download a version's files, verifying every sha256. A partial file
 * (`<file>.steward-partial`) left by an interrupted pull is resumed with a Range request;
 * files already present with the right hash are not downloaded again.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { AssetKind, ManifestFile } from '../../contracts/assets.js';
import { StewardApiError, type StewardClient } from '../../sdk/client.js';
import { clientFor, formatBytes, printJson, wantsProgress, type GlobalOptions } from '../cli-context.js';
import { parseRef } from '../cli-errors.js';
import { byteProgress, type ByteProgress } from '../progress.js';
import { eachLimit } from '../push-fns.js';
import { pickGlobals } from './push.js';

async function hashPrefix(file: string, h: ReturnType<typeof createHash>): Promise<number> {
  let n = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) {
    h.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

async function fetchFile(client: StewardClient, kind: AssetKind, name: string, version: string, f: ManifestFile, target: string, bar: ByteProgress): Promise<'skipped' | 'downloaded' | 'resumed'> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const existing = await fsp.stat(target).catch(() => null);
  if (existing?.size === f.size) {
    const h = createHash('sha256');
    await hashPrefix(target, h);
    if (h.digest('hex') === f.sha256) {
      bar.add(f.size);
      return 'skipped';
    }
  }
  const partial = `${target}.steward-partial`;
  const h = createHash('sha256');
  let have = (await fsp.stat(partial).catch(() => null))?.size ?? 0;
  if (have > f.size) {
    await fsp.rm(partial, { force: true });
    have = 0;
  }
  if (have > 0) await hashPrefix(partial, h);
  const res = await client.downloadFile(kind, name, version, f.path, have > 0 ? { start: have, ifRange: `"${f.sha256}"` } : {});
  let resumed = have > 0 && res.status === 206;
  if (have > 0 && !resumed) {
    // The server sent the whole file: start over.
    h.destroy?.();
    have = 0;
    resumed = false;
  }
  const hash = resumed ? h : createHash('sha256');
  bar.add(have);
  const out = fs.createWriteStream(partial, { flags: resumed ? 'a' : 'w', highWaterMark: 4 << 20 });
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        bar.add(chunk.length);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  const got = hash.digest('hex');
  const size = (await fsp.stat(partial)).size;
  if (got !== f.sha256 || size !== f.size) {
    await fsp.rm(partial, { force: true });
    throw new StewardApiError(0, 'unprocessable', `${f.path}: downloaded bytes do not match the manifest (sha256 ${got}, ${size} bytes; expected ${f.sha256}, ${f.size} bytes)`);
  }
  await fsp.rename(partial, target);
  return resumed ? 'resumed' : 'downloaded';
}

export async function runPull(refArg: string, o: { output?: string; kind?: AssetKind }, g: GlobalOptions): Promise<void> {
  const kind = o.kind ?? 'model';
  const { name, ref } = parseRef(refArg, 'latest');
  const client = clientFor(g);
  const v = await client.getVersion(kind, name, ref, { files: true });
  const outDir = path.resolve(o.output ?? `${name.split('/').pop()}-${v.version}`);
  const files = v.files ?? [];
  const bar = byteProgress('pulling', v.size, wantsProgress(g));
  const counts = { downloaded: 0, resumed: 0, skipped: 0 };
  await eachLimit(files, 4, async (f) => {
    const target = path.resolve(outDir, f.path);
    if (!target.startsWith(outDir + path.sep)) throw new StewardApiError(0, 'invalid_argument', `refusing to write ${f.path} outside ${outDir}`);
    counts[await fetchFile(client, kind, name, v.version, f, target, bar)]++;
  });
  bar.stop();
  if (g.json) printJson({ name, version: v.version, digest: v.digest, directory: outDir, files: files.length, bytes: v.size, ...counts });
  else process.stdout.write(`pulled ${name}:${v.version} into ${outDir}\n  ${files.length} files, ${formatBytes(v.size)}, every sha256 verified (${counts.downloaded} downloaded, ${counts.resumed} resumed, ${counts.skipped} already present)\n`);
}

export function registerPull(program: Command, globals: () => GlobalOptions): void {
  program
    .command('pull')
    .description('Download a version (by number or alias) and verify every file\'s sha256; resumes partial files')
    .argument('<name:ref>', 'e.g. meta-llama/Llama-3-8B:1.0.0, acme/bot:champion, or NAME for latest')
    .option('-o, --output <dir>', 'target directory (default: ./<name>-<version>)')
    .option('--json', 'print a JSON summary')
    .option('--no-progress', 'no progress bar')
    .action(async (ref: string, o: { output?: string } & GlobalOptions) => runPull(ref, o, { ...globals(), ...pickGlobals(o) }));
}
