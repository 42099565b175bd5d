/**
 * Prompts: versions of kind `prompt` in the registry whose metadata is a validated `PromptSpec`.
 * This module owns what the registry does not: the rule that a prompt version has no files and a
 * valid spec (a hook the registry calls before writing anything), rendering a version or label
 * with variables (compiled templates cached per digest, so a render costs one lookup of the ref),
 * the prompt-injection check, and the diff of two versions. Labels are the registry's aliases.
 */
import type { z } from 'zod';
import { parseAssetRef } from '../../contracts/asset-names.js';
import { compilePrompt, bindVariables, renderCompiled, type CompiledPrompt } from '../../contracts/prompt-template.js';
import {
  PromptSpec,
  RenderPromptBody,
  type PromptDiffResponse,
  type RenderPromptResponse,
  type SafetyFinding,
  type SafetyMode,
} from '../../contracts/prompts.js';
import { AppError, errors } from '../../platform/errors.js';
import type { AssetsService, ResolvedVersion, VersionKindHook } from '../assets/assets-service.js';
import { BoundedCache, diffKeys, diffLines, scanText, specDigest, stricter, templateLines, unifiedDiff } from './prompts-fns.js';

/** The label a render uses when the request names none, before falling back to `latest`. */
export const DEFAULT_LABEL = 'production';

type Issue = { path: string; message: string; line?: number; column?: number };

function specError(err: z.ZodError): AppError {
  const issues: Issue[] = err.issues.map((i) => {
    const params = (i as { params?: { line?: number; column?: number } }).params;
    return { path: ['metadata', ...i.path.map(String)].join('.'), message: i.message, ...(params?.line ? { line: params.line, column: params.column! } : {}) };
  });
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return errors.invalid(`invalid prompt: ${first.line ? first.message : `${first.path}: ${first.message}`}${more}`, { issues });
}

/** Called by the registry before it writes a prompt version: no files, a valid spec, identity = spec digest. */
export const promptVersionHook: VersionKindHook = {
  prepare({ files, metadata }) {
    if (files.length) {
      throw errors.invalid(`a prompt version holds no files (got ${files.length}); send the template, variables and modelConfig as metadata`, {
        issues: [{ path: 'files', message: 'must be empty for a prompt' }],
      });
    }
    const res = PromptSpec.safeParse(metadata);
    if (!res.success) throw specError(res.error);
    return { metadata: res.data as Record<string, unknown>, digest: specDigest(res.data), readyAtOnce: true };
  },
};

interface Loaded {
  name: string;
  version: string;
  digest: string;
  spec: PromptSpec;
  compiled: CompiledPrompt;
}

export interface PromptsDeps {
  assets: Pick<AssetsService, 'resolveVersion' | 'previousVersion'>;
  /** `defaultSafety`: the check a render gets when neither request nor version names one. */
  settings: { defaultSafety: SafetyMode; compiledCacheEntries: number };
}

export function createPromptsService(deps: PromptsDeps) {
  const { assets, settings } = deps;
  // Keyed by digest (the sha256 of the spec): content-addressed, so never stale.
  const compiledByDigest = new BoundedCache<string, { spec: PromptSpec; compiled: CompiledPrompt }>(settings.compiledCacheEntries);

  function compiledOf(v: ResolvedVersion): { spec: PromptSpec; compiled: CompiledPrompt } {
    const hit = compiledByDigest.get(v.digest);
    if (hit) return hit;
    const parsed = PromptSpec.safeParse(JSON.parse(v.metadataJson));
    const compiled = parsed.success ? compilePrompt(parsed.data) : null;
    if (!parsed.success || !compiled?.ok) {
      // Only a version written before the prompt rules (or by hand in SQL) can get here.
      throw errors.precondition(`prompt ${v.name}:${v.version} does not hold a valid prompt spec; push a new version`, { name: v.name, version: v.version });
    }
    const entry = { spec: parsed.data, compiled: compiled.prompt };
    compiledByDigest.set(v.digest, entry);
    return entry;
  }

  async function load(name: string, refs: readonly string[], purpose: 'render' | 'read'): Promise<Loaded> {
    const v = await assets.resolveVersion('prompt', name, refs);
    if (v.state === 'pending' || (purpose === 'render' && v.state === 'archived')) {
      throw errors.precondition(`prompt ${name}:${v.version} is ${v.state} and cannot be rendered; use a ready or deprecated version`, { name, version: v.version, state: v.state });
    }
    return { name: v.name, version: v.version, digest: v.digest, ...compiledOf(v) };
  }

  return {
    async render(name: string, body: z.output<typeof RenderPromptBody>): Promise<RenderPromptResponse> {
      const p = await load(name, body.ref ? [body.ref] : [DEFAULT_LABEL, 'latest'], 'render');
      const bound = bindVariables(p.compiled, body.variables);
      if (!bound.ok) throw errors.invalid(bound.message, { name, version: p.version, ...bound.problems });
      const safety = stricter(body.safety ?? settings.defaultSafety, p.spec.safety ?? 'off');
      const findings: SafetyFinding[] = [];
      if (safety !== 'off') {
        // Only what the caller supplied: defaults and trusted variables are the prompt owner's text.
        const vars = p.compiled.variables;
        for (let i = 0; i < vars.length; i++) {
          if (!bound.supplied[i] || vars[i]!.trusted) continue;
          for (const f of scanText(bound.values[i]!)) findings.push({ variable: vars[i]!.name, rule: f.rule, excerpt: f.excerpt });
        }
      }
      if (safety === 'block' && findings.length) {
        const list = findings.map((f) => `${f.variable} (${f.rule}: "${f.excerpt}")`).join(', ');
        throw errors.unprocessable(`refused by the prompt-injection check: ${list}`, { name, version: p.version, findings });
      }
      const out = renderCompiled(p.compiled, bound.values);
      return {
        name: p.name,
        version: p.version,
        digest: p.digest,
        messages: out.messages,
        ...(out.text !== undefined ? { text: out.text } : {}),
        modelConfig: p.spec.modelConfig,
        safety,
        findings,
      };
    },

    /**
     * `a` → `b`. With `other`, a = `ref` and b = `other` (a REF of this prompt or NAME:REF);
     * without it, b = `ref` and a = the version before it.
     */
    async diff(name: string, ref: string, other?: string): Promise<PromptDiffResponse> {
      let a: Loaded;
      let b: Loaded;
      if (other !== undefined) {
        // A text without ":" is a REF of this prompt (the scope reads no namespace from it either).
        const r = other.includes(':') ? parseAssetRef(other, { requireRef: true }) : { name, ref: other.trim() };
        if (typeof r === 'string') throw errors.invalid(`other: ${r}`);
        const [bName, bRef] = [r.name, r.ref!];
        [a, b] = await Promise.all([load(name, [ref], 'read'), load(bName, [bRef], 'read')]);
      } else {
        b = await load(name, [ref], 'read');
        const prev = await assets.previousVersion('prompt', name, b.version);
        if (!prev) throw new AppError('not_found', `prompt ${name}:${b.version} is the first version; pass other=REF to compare with another`, { name, version: b.version });
        a = await load(name, [prev], 'read');
      }
      const ops = diffLines(templateLines(a.spec.template), templateLines(b.spec.template));
      const vars = (s: PromptSpec) => Object.fromEntries((s.variables ?? []).map((v) => [v.name, v]));
      const side = (x: Loaded) => ({ name: x.name, version: x.version, digest: x.digest });
      return {
        a: side(a),
        b: side(b),
        sameContent: a.digest === b.digest,
        template: {
          typeChange: a.spec.template.type === b.spec.template.type ? null : { before: a.spec.template.type, after: b.spec.template.type },
          unified: unifiedDiff(ops, `${a.name}:${a.version}`, `${b.name}:${b.version}`),
          added: ops.filter((o) => o.op === '+').length,
          removed: ops.filter((o) => o.op === '-').length,
        },
        modelConfig: diffKeys(a.spec.modelConfig, b.spec.modelConfig),
        variables: diffKeys(vars(a.spec), vars(b.spec)),
        safety: diffKeys({ safety: a.spec.safety }, { safety: b.spec.safety })[0] ?? null,
      };
    },

    /** How many compiled templates are cached (for metrics and tests). */
    cachedTemplates: () => compiledByDigest.size,
  };
}

export type PromptsService = ReturnType<typeof createPromptsService>;
