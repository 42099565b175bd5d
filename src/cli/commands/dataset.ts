/**
 * `steward dataset …`: datasets are versioned file sets pushed through the same protocol as
 * models (deduplicated, resumable, verified). A push computes statistics of its JSONL/CSV files
 * (rows per split, columns, nulls, text lengths) into the version's metadata; files that do not
 * parse are reported with their line and still stored, unless --strict.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { formatBytes, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { datasetStats, type DatasetStats } from '../dataset-stats.js';
import { listFiles } from '../../sdk/node/push-files.js';
import { fileSelectionOptions, pickGlobals, runPush } from './push.js';
import { registerAssetCommands } from './registry.js';
import { runPull } from './pull.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface DatasetPushOptions {
  name: string;
  version: string;
  meta?: string;
  datasheet?: string;
  source?: string;
  license?: string;
  label?: string[];
  description?: string;
  strict?: boolean;
  exclude?: string[];
  followExternalLinks?: boolean;
}

/** Metadata of a dataset version: what the user declared, plus what the files say. */
export function datasetMetadata(stats: DatasetStats, declared: Record<string, unknown>, o: Pick<DatasetPushOptions, 'source' | 'license'>): Record<string, unknown> {
  return {
    ...declared,
    format: declared.format ?? stats.format,
    rows: stats.rows,
    splits: stats.splits,
    columns: stats.columns,
    ...(o.source ? { source: o.source } : {}),
    ...(o.license ? { license: o.license } : {}),
    statistics: stats.files.map((f) => ({ path: f.path, format: f.format, split: f.split, rows: f.rows, columns: f.columns, errors: f.errors, moreErrors: f.moreErrors })),
  };
}

function reportErrors(stats: DatasetStats): void {
  for (const f of stats.files) {
    for (const e of f.errors) process.stderr.write(`warning: ${f.path}:${e.line}: ${e.message}\n`);
    if (f.moreErrors) process.stderr.write(`warning: ${f.path}: ${f.moreErrors} more line(s) do not parse\n`);
  }
}

export function registerDataset(program: Command, globals: () => GlobalOptions): void {
  const dataset = program.command('dataset').description('Versioned datasets: push, pull, ls, show, diff, versions, alias');

  const push = dataset
    .command('push')
    .description('Upload a directory as a dataset version; computes statistics of its JSONL/CSV files')
    .argument('<dir>', 'directory holding the dataset files')
    .requiredOption('--name <name>', 'dataset name, "name" or "namespace/name"')
    .requiredOption('--version <semver>', 'version to create, e.g. 1.0.0')
    .option('--meta <file>', 'JSON file of metadata to add (format, schema, …)')
    .option('--datasheet <file>', 'markdown datasheet (stored as the version card)')
    .option('--source <text>', 'where the data came from')
    .option('--license <id>', 'licence, e.g. CC-BY-4.0')
    .option('--label <key=value>', 'label (repeatable)', collect)
    .option('--description <text>', 'description, when the dataset is created by this push')
    .option('--strict', 'refuse to push when a JSONL/CSV file does not parse');
  fileSelectionOptions(push)
    .option('--json', 'print the version as JSON')
    .option('--no-progress', 'no progress bars')
    .action(async (dir: string, o: DatasetPushOptions & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      // The statistics cover exactly the files the push sends.
      const { files } = await listFiles(dir, { exclude: o.exclude, followExternalLinks: o.followExternalLinks });
      const stats = await datasetStats(files);
      reportErrors(stats);
      if (o.strict && stats.parseErrors) throw new UsageError(`${stats.parseErrors} line(s) do not parse (see the warnings above); fix them or push without --strict`);
      const declared = o.meta ? (JSON.parse(fs.readFileSync(o.meta, 'utf8')) as Record<string, unknown>) : {};
      if (!g.json) process.stderr.write(`statistics: ${stats.rows} rows${Object.keys(stats.splits).length ? ` (${Object.entries(stats.splits).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}, ${stats.columns.length} columns, ${files.length} files, ${formatBytes(files.reduce((s, f) => s + f.size, 0))}\n`);
      await runPush(
        dir,
        {
          kind: 'dataset',
          name: o.name,
          version: o.version,
          metadata: datasetMetadata(stats, declared, o),
          ...(o.datasheet ? { card: o.datasheet } : {}),
          ...(o.label ? { label: o.label } : {}),
          ...(o.description ? { description: o.description } : {}),
          ...(o.exclude ? { exclude: o.exclude } : {}),
          ...(o.followExternalLinks ? { followExternalLinks: true } : {}),
        },
        g,
      );
    });

  dataset
    .command('pull')
    .description('Download a dataset version and verify every sha256')
    .argument('<name:ref>', 'NAME:VERSION or NAME:ALIAS (NAME alone means latest)')
    .option('-o, --output <dir>', 'target directory (default: ./<name>-<version>)')
    .option('--include <glob>', 'only files matching GLOB (repeatable), e.g. train.jsonl or *.csv', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'print a JSON summary')
    .option('--no-progress', 'no progress bar')
    .action(async (ref: string, o: { output?: string; include?: string[] } & GlobalOptions) => runPull(ref, { ...o, kind: 'dataset' }, { ...globals(), ...pickGlobals(o) }));

  registerAssetCommands(dataset, 'dataset', globals);
}
