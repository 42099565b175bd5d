/**
 * Prompt calls of the Steward API for applications, the CLI and the web UI: push a version
 * (registering the prompt when absent), read one by version or label, render on the server,
 * diff, and move labels. Also renders a fetched prompt locally with the server's own template
 * engine, so a cached prompt keeps working while the server is away. Browser-safe: fetch only.
 */
import type { z } from 'zod';
import type { AliasResponse, AssetPage, AliasHistory, AliasList } from '../contracts/assets.js';
import { parseSemver } from '../contracts/asset-names.js';
import { bindVariables, compilePrompt, renderCompiled, type CompiledPrompt } from '../contracts/prompt-template.js';
import type { PromptDiffResponse, PromptSpec, PromptSpecInput, RenderedMessage, RenderPromptBody, RenderPromptResponse } from '../contracts/prompts.js';
import { StewardApiError, type StewardClient } from './client.js';

/** A prompt version as an application uses it. */
export interface PromptVersion {
  name: string;
  version: string;
  /** sha256 of the canonical spec: equal digests, equal prompts. */
  digest: string;
  state: string;
  /** Labels (aliases) pointing at this version when it was read. */
  labels: string[];
  spec: PromptSpec;
}

export interface RenderedPrompt {
  messages: RenderedMessage[];
  text?: string;
}

const enc = encodeURIComponent;
/** The label a read or render uses when none is named, as on the server. */
export const DEFAULT_PROMPT_LABEL = 'production';

/** The compiled form of a fetched prompt; compile once and pass it to `renderLocally` to render often. */
export function compileFetched(p: PromptVersion): CompiledPrompt {
  const c = compilePrompt(p.spec);
  if (!c.ok) throw new StewardApiError(400, 'invalid_argument', `prompt ${p.name}:${p.version} does not compile: ${c.issues[0]?.message ?? ''}`, { issues: c.issues });
  return c.prompt;
}

/**
 * Renders a fetched prompt without the server. Throws StewardApiError `invalid_argument` with the
 * same message and details the server's render gives (missing, unknown, mistyped variables).
 * The prompt-injection check runs on the server only.
 */
export function renderLocally(p: PromptVersion, variables: Record<string, unknown>, compiled: CompiledPrompt = compileFetched(p)): RenderedPrompt {
  const bound = bindVariables(compiled, variables);
  if (!bound.ok) throw new StewardApiError(400, 'invalid_argument', bound.message, { name: p.name, version: p.version, ...bound.problems });
  return renderCompiled(compiled, bound.values);
}

export class PromptsClient {
  constructor(readonly client: StewardClient) {}

  /**
   * Creates version `version` of prompt `name` (registering the prompt if needed), then points
   * `label` at it. A prompt version has no files: it is ready as soon as it is created.
   */
  async push(name: string, version: string, spec: PromptSpecInput, opts: { label?: string; description?: string } = {}): Promise<{ prompt: PromptVersion; label: AliasResponse | null; createdPrompt: boolean }> {
    // The prompt is registered with its first version, in one transaction: a refused spec creates nothing.
    const existed = await this.client.getAsset('prompt', name).then(
      () => true,
      (err: unknown) => {
        if (err instanceof StewardApiError && err.code === 'not_found') return false;
        throw err;
      },
    );
    const v = await this.client.createVersion('prompt', name, {
      version,
      files: [],
      metadata: spec as Record<string, unknown>,
      asset: opts.description ? { description: opts.description } : {},
    });
    const createdPrompt = !existed;
    const label = opts.label ? await this.client.setAlias('prompt', name, opts.label, v.version) : null;
    return { prompt: { ...toPrompt(v), labels: label ? [label.alias] : v.aliases }, label, createdPrompt };
  }

  /** A version, a label, or `latest`. With no ref: the `production` label, else the latest version. */
  async get(name: string, ref?: string): Promise<PromptVersion> {
    if (ref !== undefined) return toPrompt(await this.client.getVersion('prompt', name, ref, { files: false }));
    try {
      return toPrompt(await this.client.getVersion('prompt', name, DEFAULT_PROMPT_LABEL, { files: false }));
    } catch (err) {
      if (err instanceof StewardApiError && err.code === 'not_found' && err.details.ref === DEFAULT_PROMPT_LABEL) {
        return toPrompt(await this.client.getVersion('prompt', name, 'latest', { files: false }));
      }
      throw err;
    }
  }

  list = (query: { q?: string; namespace?: string; limit?: number; cursor?: string } = {}): Promise<z.output<typeof AssetPage>> => this.client.listAssets('prompt', query);

  async render(name: string, body: RenderPromptBody): Promise<RenderPromptResponse> {
    const res = await this.client.raw('POST', `/api/v1/prompts/${enc(name)}/render`, { json: body });
    return (await res.json()) as RenderPromptResponse;
  }

  /** a → b; without `other`, the version before `ref` → `ref`. `other` is REF or NAME:REF. */
  async diff(name: string, ref: string, other?: string): Promise<PromptDiffResponse> {
    const res = await this.client.raw('GET', `/api/v1/prompts/${enc(name)}/versions/${enc(ref)}/prompt-diff`, { query: { other } });
    return (await res.json()) as PromptDiffResponse;
  }

  setLabel = (name: string, label: string, version: string): Promise<AliasResponse> => this.client.setAlias('prompt', name, label, version);
  removeLabel = (name: string, label: string): Promise<void> => this.client.deleteAlias('prompt', name, label);
  labels = (name: string): Promise<z.output<typeof AliasList>> => this.client.listAliases('prompt', name);
  labelHistory = (name: string, label?: string): Promise<z.output<typeof AliasHistory>> => this.client.aliasHistory('prompt', name, label);
}

function toPrompt(v: { name: string; version: string; digest: string; state: string; aliases: string[]; metadata: Record<string, unknown> }): PromptVersion {
  return { name: v.name, version: v.version, digest: v.digest, state: v.state, labels: v.aliases, spec: v.metadata as unknown as PromptSpec };
}

/** True when `ref` names a fixed version (immutable) rather than a label that may move. */
export const isFixedVersion = (ref: string): boolean => parseSemver(ref) !== null;
