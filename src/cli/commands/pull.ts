/**
 * `steward pull NAME:REF`: the SDK's pull (sdk/node/pull.ts) with a progress bar and a summary:
 * every sha256 verified, partial files resumed, files already present skipped.
 */
import type { Command } from 'commander';
import type { AssetKind } from '../../contracts/assets.js';
import { pullVersion } from '../../sdk/node/pull.js';
import { clientFor, formatBytes, printJson, wantsProgress, type GlobalOptions } from '../cli-context.js';
import { parseRef } from '../cli-errors.js';
import { byteProgress, type ByteProgress } from '../progress.js';
import { pickGlobals } from './push.js';

export async function runPull(refArg: string, o: { output?: string; kind?: AssetKind }, g: GlobalOptions): Promise<void> {
  const kind = o.kind ?? 'model';
  const { name, ref } = parseRef(refArg, 'latest');
  let bar: ByteProgress | null = null;
  let res;
  try {
    res = await pullVersion({
      client: clientFor(g),
      kind,
      name,
      ref,
      outDir: o.output,
      onProgress: (e) => (e.type === 'version' ? (bar = byteProgress('pulling', e.version.size, wantsProgress(g))) : bar?.add(e.bytes)),
    });
  } finally {
    (bar as ByteProgress | null)?.stop();
  }
  const { version: v, directory, downloaded, resumed, skipped } = res;
  const files = v.files?.length ?? 0;
  if (g.json) printJson({ name, version: v.version, digest: v.digest, directory, files, bytes: v.size, downloaded, resumed, skipped });
  else process.stdout.write(`pulled ${name}:${v.version} into ${directory}\n  ${files} files, ${formatBytes(v.size)}, every sha256 verified (${downloaded} downloaded, ${resumed} resumed, ${skipped} already present)\n`);
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
