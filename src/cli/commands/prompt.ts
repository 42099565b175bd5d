/**
 * `steward prompt push|render|ls|show|diff|label|labels|rm`: prompt versions from JSON files,
 * rendering with variables, and labels (production, staging, …) that move between versions.
 * A spec is checked locally with the server's own rules before anything is created, so a bad
 * file never leaves an empty prompt behind.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { parseAssetRef } from '../../contracts/asset-names.js';
import { AliasName } from '../../contracts/assets.js';
import { PromptSpec, SAFETY_MODES, type RenderPromptResponse, type SafetyMode } from '../../contracts/prompts.js';
import { StewardApiError } from '../../sdk/client.js';
import { PromptsClient, type PromptVersion } from '../../sdk/prompts-client.js';
import { clientFor, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { registerRm } from './registry.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `NAME` or `NAME:REF`; the name may hold one "/", the ref never a ":". */
function splitRef(s: string): { name: string; ref: string | undefined } {
  const r = parseAssetRef(s);
  if (typeof r === 'string') throw new UsageError(r);
  return { name: r.name, ref: r.ref ?? undefined };
}

function readJsonFile(file: string, what: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${what} ${file} is not JSON: ${(err as Error).message}`);
  }
}

/** `k=v` sends the string v; `k:=v` sends v parsed as JSON (numbers, booleans, objects). */
export function parseVars(list: readonly string[], file?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (file) {
    const v = readJsonFile(file, '--vars file');
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`--vars file ${file} must hold a JSON object`);
    Object.assign(out, v);
  }
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var ${JSON.stringify(item)} must look like name=text or name:=json`);
    const typed = item[eq - 1] === ':';
    const key = item.slice(0, typed ? eq - 1 : eq);
    if (!key) throw new UsageError(`--var ${JSON.stringify(item)} has no name`);
    const raw = item.slice(eq + 1);
    if (!typed) out[key] = raw;
    else {
      try {
        out[key] = JSON.parse(raw) as unknown;
      } catch {
        throw new UsageError(`--var ${key}:= needs a JSON value (e.g. 3, true, "text", {"a":1}); got ${JSON.stringify(raw)}`);
      }
    }
  }
  return out;
}

function templateText(p: PromptVersion): string[] {
  const t = p.spec.template;
  if (t.type === 'text') return t.text.split('\n').map((l) => `  ${l}`);
  return t.messages.flatMap((m) => [`  [${m.role}${m.name ? ` ${m.name}` : ''}]`, ...m.content.split('\n').map((l) => `    ${l}`)]);
}

function showPrompt(p: PromptVersion): void {
  const mc = p.spec.modelConfig;
  const lines = [
    `${p.name}:${p.version}  ${p.state}`,
    `digest     ${p.digest}`,
    `labels     ${p.labels.join(', ') || '-'}`,
    `model      ${Object.entries(mc).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('  ') || '-'}`,
    `safety     ${p.spec.safety ?? '(server default)'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (p.spec.variables?.length) {
    process.stdout.write('variables\n');
    printTable(
      ['  NAME', 'TYPE', 'REQUIRED', 'DEFAULT', 'DESCRIPTION'],
      p.spec.variables.map((v) => [`  ${v.name}`, v.enum ? `${v.type} (${v.enum.join('|')})` : v.type, String(v.required ?? v.default === undefined), v.default === undefined ? '-' : JSON.stringify(v.default), v.description ?? '']),
    );
  }
  process.stdout.write(`template (${p.spec.template.type})\n${templateText(p).join('\n')}\n`);
}

function printRendered(r: RenderPromptResponse): void {
  if (r.text !== undefined) process.stdout.write(`${r.text}\n`);
  else process.stdout.write(`${r.messages.map((m) => `[${m.role}${m.name ? ` ${m.name}` : ''}]\n${m.content}`).join('\n\n')}\n`);
}

export function registerPrompt(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions): GlobalOptions => ({ ...globals(), ...(o.json !== undefined ? { json: o.json } : {}) });
  const prompts = (o: GlobalOptions) => new PromptsClient(clientFor(g(o)));
  const cmd = program.command('prompt').description('Versioned prompt templates: push, render, labels, diff, rm');

  cmd
    .command('push')
    .description('Create a prompt version from a JSON file {template, variables?, modelConfig?, safety?}')
    .argument('<file>', 'JSON spec file')
    .requiredOption('--name <name>', 'prompt name ("name" or "namespace/name"); registered when absent')
    .requiredOption('--version <version>', 'semantic version, e.g. 1.0.0')
    .option('--label <label>', 'point this label at the new version (e.g. production)')
    .option('--description <text>', 'description, when the prompt is registered now')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { name: string; version: string; label?: string; description?: string } & GlobalOptions) => {
      if (o.label !== undefined && !AliasName.safeParse(o.label).success) throw new UsageError(`label ${JSON.stringify(o.label)}: ${AliasName.safeParse(o.label).error?.issues[0]?.message ?? 'invalid'}`);
      const spec = PromptSpec.safeParse(readJsonFile(file, 'prompt file'));
      if (!spec.success) {
        const issues = spec.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        throw new StewardApiError(400, 'invalid_argument', `invalid prompt in ${file}: ${issues[0]!.path}: ${issues[0]!.message}`, { issues });
      }
      const res = await prompts(o).push(o.name, o.version, spec.data, { ...(o.label ? { label: o.label } : {}), ...(o.description ? { description: o.description } : {}) });
      if (g(o).json) return printJson(res);
      process.stdout.write(`${res.createdPrompt ? 'registered prompt ' + o.name + '\n' : ''}${res.prompt.name}:${res.prompt.version}  ${res.prompt.state}  ${res.prompt.digest}\n`);
      if (res.label) process.stdout.write(`${res.prompt.name}:${res.label.alias} → ${res.label.version}\n`);
    });

  cmd
    .command('render')
    .description('Render a version or label with variables (NAME alone: the production label, else the latest version)')
    .argument('<name[:ref]>', 'NAME, NAME:VERSION or NAME:LABEL')
    .option('--var <name=value>', 'a variable: name=text, or name:=JSON for numbers, booleans and objects (repeatable)', collect, [])
    .option('--vars <file>', 'JSON object of variables (--var wins)')
    .option('--safety <mode>', `prompt-injection check: ${SAFETY_MODES.join(', ')}`)
    .option('--json', 'print JSON')
    .action(async (target: string, o: { var: string[]; vars?: string; safety?: string } & GlobalOptions) => {
      const { name, ref } = splitRef(target);
      if (o.safety !== undefined && !(SAFETY_MODES as readonly string[]).includes(o.safety)) throw new UsageError(`--safety must be one of ${SAFETY_MODES.join(', ')}`);
      const variables = parseVars(o.var, o.vars);
      const r = await prompts(o).render(name, { ...(ref ? { ref } : {}), variables, ...(o.safety ? { safety: o.safety as SafetyMode } : {}) });
      if (g(o).json) return printJson(r);
      for (const f of r.findings) process.stderr.write(`warning: prompt-injection check: variable ${f.variable}: ${f.rule} ("${f.excerpt}")\n`);
      printRendered(r);
    });

  registerRm(cmd, 'prompt', globals);

  cmd
    .command('ls')
    .description('List prompts')
    .option('-q, --query <text>', 'name substring')
    .option('--limit <n>', 'page size', '100')
    .option('--cursor <c>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(async (o: { query?: string; limit: string; cursor?: string } & GlobalOptions) => {
      const page = await prompts(o).list({ ...(o.query ? { q: o.query } : {}), limit: Number(o.limit), ...(o.cursor ? { cursor: o.cursor } : {}) });
      if (g(o).json) return printJson(page);
      printTable(['NAME', 'LATEST', 'VERSIONS', 'UPDATED'], page.items.map((a) => [a.name, a.latestVersion, a.versionCount, a.updatedAt]));
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
    });

  cmd
    .command('show')
    .description('Show a prompt version: labels, model config, variables, template')
    .argument('<name[:ref]>', 'NAME (production, else latest), NAME:VERSION or NAME:LABEL')
    .option('--json', 'print JSON')
    .action(async (target: string, o: GlobalOptions) => {
      const { name, ref } = splitRef(target);
      const p = await prompts(o).get(name, ref);
      if (g(o).json) return printJson(p);
      showPrompt(p);
    });

  cmd
    .command('diff')
    .description('Diff two prompt versions (template lines, model config, variables); with one argument, against the previous version')
    .argument('<a>', 'NAME:REF')
    .argument('[b]', 'REF, or NAME:REF of another prompt')
    .option('--json', 'print JSON')
    .action(async (a: string, b: string | undefined, o: GlobalOptions) => {
      const ra = splitRef(a);
      if (!ra.ref) throw new UsageError(`${JSON.stringify(a)} must look like NAME:REF`);
      const d = await prompts(o).diff(ra.name, ra.ref, b);
      if (g(o).json) return printJson(d);
      const out = [`${d.a.name}:${d.a.version} → ${d.b.name}:${d.b.version}${d.sameContent ? '  (same content)' : ''}`];
      if (d.template.typeChange) out.push(`template type ${d.template.typeChange.before} → ${d.template.typeChange.after}`);
      if (d.template.unified) out.push(d.template.unified.trimEnd());
      const sign = { added: '+', removed: '-', changed: '~' } as const;
      if (d.modelConfig.length) out.push('modelConfig', ...d.modelConfig.map((c) => `  ${sign[c.change]} ${c.key}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`));
      if (d.variables.length) out.push('variables', ...d.variables.map((c) => `  ${sign[c.change]} ${c.key}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`));
      if (d.safety) out.push(`safety ${JSON.stringify(d.safety.before)} → ${JSON.stringify(d.safety.after)}`);
      process.stdout.write(`${out.join('\n')}\n`);
    });

  cmd
    .command('label')
    .description('Point LABEL (production, staging, any name) at VERSION of the same prompt; the move is recorded')
    .argument('<name>', 'prompt name')
    .argument('<label>', 'label name')
    .argument('<version>', 'version of this prompt')
    .option('--json', 'print JSON')
    .action(async (name: string, label: string, version: string, o: GlobalOptions) => {
      const checked = AliasName.safeParse(label);
      if (!checked.success) throw new UsageError(`label ${JSON.stringify(label)}: ${checked.error.issues[0]?.message ?? 'invalid'}`);
      const v = splitRef(version);
      if (v.ref !== undefined && v.name !== name) throw new UsageError(`a label points at a version of the same prompt; ${JSON.stringify(version)} belongs to ${v.name}`);
      const res = await prompts(o).setLabel(name, label, v.ref ?? version);
      if (g(o).json) return printJson(res);
      process.stdout.write(`${name}:${label} → ${res.version}\n`);
    });

  cmd
    .command('labels')
    .description('List the labels of a prompt (--history: every move, newest first)')
    .argument('<name>', 'prompt name')
    .option('--history', 'show the history of moves')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { history?: boolean } & GlobalOptions) => {
      const c = prompts(o);
      if (o.history) {
        const h = await c.labelHistory(name);
        if (g(o).json) return printJson(h);
        return printTable(['LABEL', 'VERSION', 'PREVIOUS', 'AT', 'BY'], h.items.map((e) => [e.alias, e.version ?? '(removed)', e.previousVersion, e.at, e.actor]));
      }
      const l = await c.labels(name);
      if (g(o).json) return printJson(l);
      printTable(['LABEL', 'VERSION', 'UPDATED', 'BY'], l.items.map((x) => [x.alias, x.version, x.updatedAt, x.updatedBy]));
    });
}
