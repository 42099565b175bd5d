/**
 * `steward pull NAME:REF`: the SDK's pull (sdk/node/pull.ts) with a progress bar and a summary:
 * every sha256 verified, partial files resumed, files already present skipped.
 */
import type { Command } from 'commander';
import type { AssetKind, VersionResponse } from '../../contracts/assets.js';
import { pullVersion } from '../../sdk/node/pull.js';
import { clientFor, formatBytes, printJson, wantsProgress, type GlobalOptions } from '../cli-context.js';
import { parseRef } from '../cli-errors.js';
import { byteProgress, type ByteProgress } from '../progress.js';
import { pickGlobals } from './push.js';

/** Said on stderr before any byte: a deprecated or archived version still downloads, knowingly. */
function warnState(name: string, v: VersionResponse): void {
  if (v.state === 'deprecated') process.stderr.write(`warning: ${name}:${v.version} is deprecated; pull a newer version unless you need this one (\`steward versions ${name}\`)\n`);
  if (v.state === 'archived') process.stderr.write(`warning: ${name}:${v.version} is archived: retired, kept for the record only\n`);
}

export async function runPull(refArg: string, o: { output?: string; kind?: AssetKind; include?: string[] }, g: GlobalOptions): Promise<void> {
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
      include: o.include,
      onProgress: (e) => {
        if (e.type === 'bytes') return bar?.add(e.bytes);
        warnState(name, e.version);
        bar = byteProgress('pulling', e.bytes, wantsProgress(g));
      },
    });
  } finally {
    (bar as ByteProgress | null)?.stop();
  }
  const { version: v, directory, downloaded, resumed, skipped } = res;
  const files = res.files.length;
  const bytes = res.files.reduce((n, f) => n + f.size, 0);
  const of = files < (v.files?.length ?? 0) ? ` of ${v.files!.length}` : '';
  if (g.json) printJson({ name, version: v.version, state: v.state, digest: v.digest, directory, files, bytes, paths: res.files.map((f) => f.path), downloaded, resumed, skipped });
  else process.stdout.write(`pulled ${name}:${v.version} into ${directory}\n  ${files}${of} files, ${formatBytes(bytes)}, every sha256 verified (${downloaded} downloaded, ${resumed} resumed, ${skipped} already present)\n`);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerPull(program: Command, globals: () => GlobalOptions): void {
  program
    .command('pull')
    .description('Download a version (by number or alias) and verify every file\'s sha256; resumes partial files')
    .argument('<name:ref>', 'e.g. meta-llama/Llama-3-8B:1.0.0, acme/bot:champion, or NAME for latest')
    .option('-o, --output <dir>', 'target directory (default: ./<name>-<version>)')
    .option('--include <glob>', 'only files matching GLOB (repeatable): config.json, *.json (any depth), tokenizer/*, **/*.safetensors', collect)
    .option('--json', 'print a JSON summary')
    .option('--no-progress', 'no progress bar')
    .action(async (ref: string, o: { output?: string; include?: string[] } & GlobalOptions) => runPull(ref, o, { ...globals(), ...pickGlobals(o) }));
}
