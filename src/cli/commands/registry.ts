/** Read and lifecycle commands of the registry: ls, versions, show, diff, alias, edit, deprecate, archive, rm. */
import type { Command } from 'commander';
import type { AssetKind, DeleteResponse, VersionResponse } from '../../contracts/assets.js';
import type { VersionEvaluation } from '../../contracts/evals.js';
import type { VersionEnvironments } from '../../contracts/promotions.js';
import { clientFor, confirm, formatBytes, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { parseAssetRef } from '../../contracts/asset-names.js';
import { parseLabels, parseRef, UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${JSON.stringify(v)} is not a number`);
  return n;
};

/** `--keep-archived-files`: a count of archived versions, or `all` (no limit: the policy cleared; commander turns a null into ''). */
const keepArg = (v: string): number | 'all' => {
  if (v === 'all') return v;
  if (!/^\d+$/.test(v) || Number(v) > 1_000_000) throw new UsageError(`--keep-archived-files takes a whole number of archived versions (0 to 1000000) or "all", not ${JSON.stringify(v)}`);
  return Number(v);
};
const keepText = (n: number | null) => (n === null ? 'all' : String(n));

/** A version document; a model version's carries the evaluations the evals feature contributes. */
function showVersion(v: VersionResponse & { evaluations?: VersionEvaluation[]; environments?: VersionEnvironments }): void {
  const lines = [
    `${v.name}:${v.version}  ${v.state}`,
    `digest     ${v.digest}`,
    `size       ${formatBytes(v.size)} in ${v.fileCount} files`,
    `aliases    ${v.aliases.join(', ') || '-'}`,
    `labels     ${Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(', ') || '-'}`,
    `created    ${v.createdAt} by ${v.createdBy ?? '-'}${v.readyAt ? `; ready ${v.readyAt}` : ''}${v.archivedAt ? `; archived ${v.archivedAt}` : ''}`,
  ];
  if (v.filesReleasedAt) lines.push(`files      released ${v.filesReleasedAt} by the retention policy: listed below for the record, not downloadable`);
  const hidden = '(hidden: in a namespace this token cannot read)';
  for (const e of v.lineage) lines.push(`lineage    ${e.relation} ${e.hidden ? hidden : e.ref}`);
  if (v.environments) {
    lines.push(`in         ${v.environments.current.map((e) => `${e.environment} (since ${e.since})`).join(', ') || '-'}`);
    for (const p of v.environments.pending) lines.push(`pending    promotion ${p.id} to ${p.to}, requested ${p.requestedAt} (steward approve ${p.id})`);
  }
  const meta = Object.entries(v.metadata);
  if (meta.length) {
    lines.push('metadata');
    for (const [k, x] of meta) lines.push(`  ${k.padEnd(30)} ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`);
  }
  if (v.evaluations?.length) {
    lines.push('evaluations (latest run per suite)');
    for (const e of v.evaluations) {
      const figures = Object.entries(e.metrics).map(([k, x]) => `${k}=${x === null ? '-' : Number.isInteger(x) ? x : x.toPrecision(4)}`).join(' ');
      lines.push(`  ${e.hidden ? hidden : `${e.run}  ${e.suite}`}  ${e.passed === null ? '' : e.passed ? 'passed' : 'FAILED'}  ${figures}`);
    }
  }
  if (v.files?.length) {
    lines.push('files');
    for (const f of v.files) lines.push(`  ${f.sha256.slice(0, 12)}  ${formatBytes(f.size).padStart(10)}  ${f.path}`);
  }
  if (v.card) lines.push('card', ...v.card.split('\n').map((l) => `  ${l}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerRegistry(program: Command, globals: () => GlobalOptions): void {
  registerAssetCommands(program, 'model', globals);
}

/**
 * `rm NAME:VERSION` deletes a version, `rm NAME --all` an asset with all its versions; the
 * server refuses (409, every reason named) while anything depends on them. Under `program`
 * (models) or a kind's own command (`dataset rm`, `prompt rm`).
 */
export function registerRm(program: Command, kind: AssetKind, globals: () => GlobalOptions): void {
  program
    .command('rm')
    .description(`Delete a ${kind} version (NAME:VERSION), or a ${kind} with all its versions (NAME --all); refused while an alias, lineage or an evaluation depends on it. \`steward gc --apply\` then frees blobs no other version lists`)
    .argument('<ref>', 'NAME:VERSION, or NAME with --all')
    .option('--all', `delete the ${kind} itself with every version`)
    .option('-y, --yes', 'do not ask for confirmation (required when there is no terminal)')
    .option('--json', 'print JSON')
    .action(async (ref: string, o: { all?: boolean; yes?: boolean } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const r = parseAssetRef(ref);
      if (typeof r === 'string') throw new UsageError(r);
      if (o.all && r.ref !== null) throw new UsageError(`--all deletes a whole ${kind}: name it without a version (${r.name})`);
      if (!o.all && r.ref === null) throw new UsageError(`name the version to delete (${r.name}:VERSION), or pass --all to delete ${r.name} with all its versions`);
      const what = o.all ? `${kind} ${r.name} with all its versions` : `${kind} ${r.name}:${r.ref}`;
      if (!(await confirm(`Delete ${what}?`, o.yes))) {
        process.stderr.write('nothing deleted\n');
        return;
      }
      const c = clientFor(g);
      const res: DeleteResponse = o.all ? await c.deleteAsset(kind, r.name) : await c.deleteVersion(kind, r.name, r.ref!);
      if (g.json) return printJson(res);
      const removed = Object.entries(res.removed).map(([k, n]) => `${n} ${k}`);
      const versions = res.versions.map((v) => v.version);
      const head = o.all
        ? `deleted ${kind} ${res.name} with ${versions.length} version${versions.length === 1 ? '' : 's'}${versions.length ? ` (${versions.slice(0, 10).join(', ')}${versions.length > 10 ? ', …' : ''})` : ''}`
        : `deleted ${kind} ${res.name}:${versions[0]}${res.assetDeleted ? ` and ${kind} ${res.name} (a push registered it and never finished)` : ''}`;
      process.stdout.write(`${head}${removed.length ? `, with ${removed.join(', ')}` : ''}\n`);
      if (versions.length) process.stderr.write(`the deleted files held ${formatBytes(res.versions.reduce((s, v) => s + v.size, 0))}: \`steward gc --apply\` frees the blobs no other version lists\n`);
    });
}

/** ls, versions, show, diff, alias, edit, deprecate, archive, rm for one kind, under `program` (models) or a kind's own command (datasets). */
export function registerAssetCommands(program: Command, kind: AssetKind, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });

  program
    .command('ls')
    .description(`List registered ${kind}s`)
    .option('-q, --query <text>', 'name substring')
    .option('--namespace <ns>', 'only this namespace')
    .option('--label <key=value>', 'label filter (repeatable)', collect)
    .option('--sort <field>', 'name, created or updated', 'name')
    .option('--limit <n>', 'page size', '100')
    .option('--cursor <c>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(async (o: { query?: string; namespace?: string; label?: string[]; sort: 'name'; limit: string; cursor?: string } & GlobalOptions) => {
      const page = await clientFor(g(o)).listAssets(kind, { q: o.query, namespace: o.namespace, label: o.label, sort: o.sort, limit: Number(o.limit), cursor: o.cursor });
      if (o.json) return printJson(page);
      printTable(['NAME', 'LATEST', 'VERSIONS', 'OWNER', 'UPDATED'], page.items.map((a) => [a.name, a.latestVersion, a.versionCount, a.owner, a.updatedAt]));
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
    });

  program
    .command('versions')
    .description(`List versions of a ${kind}, or search versions of all ${kind}s (omit NAME)`)
    .argument('[name]', `${kind} name; omit to search across all ${kind}s`)
    .option('--state <state>', 'pending, ready, deprecated or archived (repeatable)', collect)
    .option('-q, --query <text>', 'model name substring (with no NAME)')
    .option('--architecture <a>', 'metadata architecture')
    .option('--framework <f>', 'metadata framework')
    .option('--min-accuracy <x>', 'accuracy_score at least', num)
    .option('--max-accuracy <x>', 'accuracy_score at most', num)
    .option('--min-parameters <n>', 'parameter count at least', num)
    .option('--max-parameters <n>', 'parameter count at most', num)
    .option('--label <key=value>', 'label filter (repeatable)', collect)
    .option('--sort <field>', 'version, created, accuracy or parameters', 'created')
    .option('--order <dir>', 'asc or desc', 'desc')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <c>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o: Record<string, unknown> & GlobalOptions) => {
      const page = await clientFor(g(o)).listVersions(kind, name ?? '-', {
        state: o.state as ('ready' | 'pending' | 'deprecated' | 'archived')[] | undefined,
        q: o.query as string | undefined,
        architecture: o.architecture as string | undefined,
        framework: o.framework as string | undefined,
        minAccuracy: o.minAccuracy as number | undefined,
        maxAccuracy: o.maxAccuracy as number | undefined,
        minParameters: o.minParameters as number | undefined,
        maxParameters: o.maxParameters as number | undefined,
        label: o.label as string[] | undefined,
        sort: o.sort as 'created',
        order: o.order as 'desc',
        limit: Number(o.limit),
        cursor: o.cursor as string | undefined,
      });
      if (o.json) return printJson(page);
      printTable(
        ['NAME', 'VERSION', 'STATE', 'SIZE', 'ALIASES', 'CREATED'],
        page.items.map((v) => [v.name, v.version, v.state, formatBytes(v.size), v.aliases.join(','), v.createdAt]),
      );
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
    });

  program
    .command('show')
    .description('Show a version: state, digest, files, metadata, lineage, card')
    .argument('<name:ref>', 'NAME:VERSION or NAME:ALIAS (NAME alone means latest)')
    .option('--json', 'print JSON')
    .action(async (ref: string, o: GlobalOptions) => {
      const r = parseRef(ref, 'latest');
      const v = await clientFor(g(o)).getVersion(kind, r.name, r.ref, { files: true });
      if (o.json) printJson(v);
      else showVersion(v);
    });

  program
    .command('diff')
    .description('Compare two versions: files, metadata, labels and metric deltas')
    .argument('<a>', 'NAME:REF')
    .argument('<b>', 'NAME:REF (or just REF for the same model)')
    .option('--json', 'print JSON')
    .action(async (a: string, b: string, o: GlobalOptions) => {
      const ra = parseRef(a);
      const other = b.includes(':') ? b : `${ra.name}:${b}`;
      const d = await clientFor(g(o)).compare(kind, ra.name, ra.ref, other);
      if (o.json) return printJson(d);
      const out = [`${d.a.name}:${d.a.version} → ${d.b.name}:${d.b.version}${d.sameContent ? '  (same content)' : ''}`];
      const sign = { added: '+', removed: '-', changed: '~' } as const;
      if (d.files.length) out.push('files', ...d.files.map((f) => `  ${sign[f.change]} ${f.path}${f.change === 'changed' ? ` (${formatBytes(f.before!.size)} → ${formatBytes(f.after!.size)})` : ''}`));
      out.push(`  ${d.unchangedFiles} unchanged`);
      if (d.metadata.length) out.push('metadata', ...d.metadata.map((m) => `  ${sign[m.change]} ${m.key}: ${JSON.stringify(m.before)} → ${JSON.stringify(m.after)}`));
      if (d.labels.length) out.push('labels', ...d.labels.map((m) => `  ${sign[m.change]} ${m.key}: ${JSON.stringify(m.before)} → ${JSON.stringify(m.after)}`));
      if (d.metrics.length) {
        out.push('metrics');
        for (const m of d.metrics) out.push(`  ${m.metric.padEnd(32)} ${m.before ?? '-'} → ${m.after ?? '-'}${m.delta !== null ? `  (${m.delta >= 0 ? '+' : ''}${Number(m.delta.toPrecision(6))})` : ''}`);
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });

  const alias = program.command('alias').description('Movable names for versions (champion, production, …)');
  alias
    .command('set')
    .description('Point ALIAS at a version (moves it if it exists)')
    .argument('<name>', 'model name')
    .argument('<alias>', 'alias name')
    .argument('<version>', 'version')
    .option('--json', 'print JSON')
    .action(async (name: string, a: string, version: string, o: GlobalOptions) => {
      const res = await clientFor(g(o)).setAlias(kind, name, a, version);
      if (o.json) printJson(res);
      else process.stdout.write(`${name}:${a} → ${res.version}\n`);
    });
  alias
    .command('rm')
    .description('Remove an alias')
    .argument('<name>', 'model name')
    .argument('<alias>', 'alias name')
    .action(async (name: string, a: string, o: GlobalOptions) => {
      await clientFor(g(o)).deleteAlias(kind, name, a);
      process.stdout.write(`removed ${name}:${a}\n`);
    });
  alias
    .command('ls')
    .description('List aliases of a model (--history: every move, newest first)')
    .argument('<name>', 'model name')
    .option('--history', 'show the history of moves')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { history?: boolean } & GlobalOptions) => {
      const c = clientFor(g(o));
      if (o.history) {
        const h = await c.aliasHistory(kind, name);
        if (o.json) return printJson(h);
        return printTable(['ALIAS', 'VERSION', 'PREVIOUS', 'AT', 'BY'], h.items.map((e) => [e.alias, e.version ?? '(removed)', e.previousVersion, e.at, e.actor]));
      }
      const l = await c.listAliases(kind, name);
      if (o.json) return printJson(l);
      printTable(['ALIAS', 'VERSION', 'UPDATED', 'BY'], l.items.map((x) => [x.alias, x.version, x.updatedAt, x.updatedBy]));
    });

  program
    .command('edit')
    .description(`Change a ${kind}'s description, labels or retention policy (NAME), or a version's labels (NAME:VERSION)`)
    .argument('<name[:version]>', `NAME for the ${kind}, NAME:VERSION (or an alias) for one version`)
    .option('--description <text>', `the ${kind}'s description (versions have none of their own)`)
    .option('--label <key=value>', 'set a label, keeping the others (repeatable)', collect)
    .option('--unlabel <key>', 'remove a label (repeatable)', collect)
    .option('--keep-archived-files <n|all>', 'retention: keep the files of the N most recently archived versions; older archived versions have theirs released (steward gc --apply reclaims them; metadata and audit stay). "all" keeps every one', keepArg)
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExamples:\n  steward${kind === 'model' ? '' : ` ${kind}`} edit acme/bot --description "Support assistant" --label team=nlp\n  steward${kind === 'model' ? '' : ` ${kind}`} edit acme/bot:1.2.0 --label eval=passed --unlabel candidate\n  steward${kind === 'model' ? '' : ` ${kind}`} edit acme/bot --keep-archived-files 2`)
    .action(async (target: string, o: { description?: string; label?: string[]; unlabel?: string[]; keepArchivedFiles?: number | 'all' } & GlobalOptions) => {
      const set = parseLabels(o.label ?? []);
      const unset = o.unlabel ?? [];
      const keep = o.keepArchivedFiles === 'all' ? null : o.keepArchivedFiles;
      if (o.description === undefined && keep === undefined && !Object.keys(set).length && !unset.length) {
        throw new UsageError('nothing to change: pass --description TEXT, --label KEY=VALUE, --unlabel KEY or --keep-archived-files N|all');
      }
      const both = unset.filter((k) => k in set);
      if (both.length) throw new UsageError(`--label and --unlabel both name ${both.join(', ')}`);
      const r = parseAssetRef(target);
      if (typeof r === 'string') throw new UsageError(r);
      const c = clientFor(g(o));
      const relabel = (labels: Record<string, string>) => {
        for (const k of unset) if (!(k in labels)) process.stderr.write(`note: ${target} has no label ${k}\n`);
        return Object.fromEntries(Object.entries({ ...labels, ...set }).filter(([k]) => !unset.includes(k)));
      };
      const show = (labels: Record<string, string>) => Object.entries(labels).map(([k, x]) => `${k}=${x}`).join(', ') || '(none)';
      if (r.ref !== null) {
        if (o.description !== undefined) throw new UsageError(`a version has no description: the ${kind}'s is shared by its versions (steward${kind === 'model' ? '' : ` ${kind}`} edit ${r.name} --description …)`);
        if (keep !== undefined) throw new UsageError(`the retention policy is the ${kind}'s, for all its archived versions (steward${kind === 'model' ? '' : ` ${kind}`} edit ${r.name} --keep-archived-files …)`);
        const v = await c.getVersion(kind, r.name, r.ref);
        const updated = await c.updateVersion(kind, r.name, v.version, { labels: relabel(v.labels) });
        if (o.json) return printJson(updated);
        return void process.stdout.write(`${updated.name}:${updated.version}  labels ${show(updated.labels)}\n`);
      }
      const a = await c.getAsset(kind, r.name);
      const labels = Object.keys(set).length || unset.length ? { labels: relabel(a.labels) } : {};
      const updated = await c.updateAsset(kind, r.name, { ...(o.description !== undefined ? { description: o.description } : {}), ...labels, ...(keep !== undefined ? { keepArchivedFiles: keep } : {}) });
      if (o.json) return printJson(updated);
      process.stdout.write(`${updated.name}  description ${JSON.stringify(updated.description)}  labels ${show(updated.labels)}  keep archived files ${keepText(updated.keepArchivedFiles)}\n`);
    });
  registerRm(program, kind, globals);

  for (const [cmd, state, what] of [
    ['deprecate', 'deprecated', 'Mark a version deprecated (still downloadable; aliases may keep pointing at it)'],
    ['archive', 'archived', 'Archive a version (terminal: no alias may point at it any more)'],
  ] as const) {
    program
      .command(cmd)
      .description(what)
      .argument('<name:version>', 'NAME:VERSION')
      .option('--json', 'print JSON')
      .action(async (ref: string, o: GlobalOptions) => {
        const r = parseRef(ref);
        const v = await clientFor(g(o)).updateVersion(kind, r.name, r.ref, { state });
        if (o.json) printJson(v);
        else process.stdout.write(`${v.name}:${v.version} is ${v.state}\n`);
      });
  }
}
