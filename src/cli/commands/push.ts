/**
 * `steward push DIR`: the SDK's push engine (sdk/node/push.ts) with progress bars and a summary.
 * Re-running an interrupted push resumes it. Symbolic links that lead outside DIR are not pushed
 * (unless --follow-external-links) and a warning on stderr lists them.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { AssetKind } from '../../contracts/assets.js';
import { pushVersion, type SkippedLink } from '../../sdk/node/push.js';
import { cacheDir, clientFor, formatBytes, printJson, wantsProgress, type GlobalOptions } from '../cli-context.js';
import { pushProgress } from '../progress.js';
import { parseLabels, UsageError } from '../cli-errors.js';

interface PushOptions {
  model?: string;
  dataset?: string[];
  name?: string;
  kind?: AssetKind;
  version: string;
  meta?: string;
  /** Metadata given directly (`steward dataset push` computes it); wins over `meta`. */
  metadata?: Record<string, unknown>;
  card?: string;
  parent?: string;
  baseModel?: string;
  label?: string[];
  description?: string;
  exclude?: string[];
  followExternalLinks?: boolean;
  allowEmpty?: boolean;
}

const WHY: Record<SkippedLink['reason'], string> = { outside: 'leads outside the directory', broken: 'is broken', loop: 'loops back to a directory it is in' };

/** One warning line naming every symbolic link the push left out (at most 20, then a count). */
export function skippedWarning(dir: string, skipped: readonly SkippedLink[]): string {
  if (!skipped.length) return '';
  const shown = skipped.slice(0, 20).map((s) => `${s.path} -> ${s.target} (${WHY[s.reason]})`);
  const more = skipped.length > shown.length ? `; and ${skipped.length - shown.length} more` : '';
  const hint = skipped.some((s) => s.reason === 'outside') ? ' (--follow-external-links pushes links that lead outside)' : '';
  return `warning: ${skipped.length} symbolic link(s) in ${dir} not pushed${hint}: ${shown.join('; ')}${more}\n`;
}

export async function runPush(dir: string, o: PushOptions, g: GlobalOptions): Promise<void> {
  const name = o.name ?? o.model;
  if (!name) throw new UsageError('name the asset: --model NAME');
  const metadata = o.metadata ?? (o.meta ? (JSON.parse(fs.readFileSync(o.meta, 'utf8')) as Record<string, unknown>) : undefined);
  const card = o.card ? fs.readFileSync(o.card, 'utf8') : undefined;
  const labels = parseLabels(o.label ?? []);
  const lineage = { ...(o.parent ? { parent: o.parent } : {}), ...(o.baseModel ? { baseModel: o.baseModel } : {}), ...(o.dataset?.length ? { datasets: o.dataset } : {}) };
  const bars = pushProgress(wantsProgress(g));
  let res;
  try {
    res = await pushVersion({
      client: clientFor(g),
      kind: o.kind ?? 'model',
      name,
      dir,
      version: {
        version: o.version,
        ...(metadata ? { metadata } : {}),
        ...(card !== undefined ? { card } : {}),
        ...(Object.keys(labels).length ? { labels } : {}),
        ...(Object.keys(lineage).length ? { lineage } : {}),
      },
      description: o.description,
      allowEmpty: o.allowEmpty,
      cacheDir: cacheDir(),
      onProgress: bars.onProgress,
      exclude: o.exclude,
      followExternalLinks: o.followExternalLinks,
    });
  } finally {
    bars.stop();
  }
  process.stderr.write(skippedWarning(dir, res.skipped));
  const v = res.version;
  if (res.alreadyReady) {
    if (g.json) printJson(v);
    else process.stdout.write(`${name}:${v.version} is already ${v.state} with these files (${v.digest})\n`);
    return;
  }
  // `skipped` only when links were left out: the document's shape is otherwise unchanged.
  if (g.json) printJson({ ...v, uploadedBytes: res.uploadedBytes, resumed: res.resumed, ...(res.skipped.length ? { skipped: res.skipped } : {}) });
  else {
    process.stdout.write(
      `pushed ${name}:${v.version} (${v.state}) ${v.digest}\n  ${res.files} files, ${formatBytes(res.bytes)}; uploaded ${formatBytes(res.uploadedBytes)}${res.resumed ? ' (resumed)' : ''}\n`,
    );
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The options that choose which files of DIR are pushed (push, dataset push). */
export function fileSelectionOptions(cmd: Command): Command {
  return cmd
    .option('--exclude <glob>', 'leave out files matching this gitignore-style pattern (repeatable; DIR/.stewardignore is read too)', collect)
    .option('--follow-external-links', 'also push files that symbolic links outside DIR lead to (skipped by default)');
}

export function registerPush(program: Command, globals: () => GlobalOptions): void {
  const push = program
    .command('push')
    .description('Upload a directory as a new version: hashes locally, sends only the blobs the server lacks, then finalises')
    .argument('<dir>', 'directory holding the model files')
    .requiredOption('--model <name>', 'model name, "name" or "namespace/name"')
    .requiredOption('--version <semver>', 'version to create, e.g. 1.0.0 (v1.0.0 is accepted)')
    .option('--meta <file>', 'JSON file of metadata (architecture, parameters, accuracy_score, …)')
    .option('--card <file>', 'markdown model card')
    .option('--parent <name:version>', 'the version this one derives from')
    .option('--base-model <ref>', 'base model: NAME:VERSION in this registry, or an external id')
    .option('--dataset <name:version>', 'dataset version used (repeatable)', collect)
    .option('--label <key=value>', 'label (repeatable)', collect)
    .option('--description <text>', 'description, when the model is created by this push')
    .option('--allow-empty', 'create the version even if DIR holds no files (refused otherwise)');
  fileSelectionOptions(push)
    .option('--json', 'print the version as JSON')
    .option('--no-progress', 'no progress bars')
    .addHelpText(
      'after',
      '\nExamples:\n  steward push ./llama-3-8b --model meta-llama/Llama-3-8B --version 1.0.0 --meta meta.json --label team=nlp\n  steward push ./ft --model acme/support-bot --version 1.1.0 --parent acme/support-bot:1.0.0 --exclude "*.log" --exclude checkpoints/\n\nAn interrupted push resumes when run again with the same arguments. Symbolic links inside DIR are followed;\nlinks that lead outside it are not pushed (a warning lists them) unless --follow-external-links.',
    )
    .action(async (dir: string, o: PushOptions & GlobalOptions) => runPush(dir, o, { ...globals(), ...pickGlobals(o) }));
}

export function pickGlobals(o: GlobalOptions): GlobalOptions {
  return { ...(o.json !== undefined ? { json: o.json } : {}), ...(o.progress !== undefined ? { progress: o.progress } : {}) };
}
