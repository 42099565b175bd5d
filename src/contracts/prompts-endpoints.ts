/**
 * Endpoints of prompts beyond the registry's shared asset shape (`/api/v1/prompts/...` for
 * versions and labels are the asset endpoints): render and diff. Both read, so both need
 * `asset:read` and are scoped by the prompt's namespace (and the other side's, for a diff).
 */
import { z } from 'zod';
import { namespaceOf, namespaceOfRef } from './asset-names.js';
import { AssetName, VersionRef } from './assets.js';
import { endpoint } from './endpoint.js';
import { PromptDiffQuery, PromptDiffResponse, RenderPromptBody, RenderPromptResponse } from './prompts.js';

/** `other` is a REF of this prompt (no namespace of its own) or NAME:REF. */
const otherNs = (other: string | undefined): (string | null)[] => (other?.includes(':') ? [namespaceOfRef(other)] : []);
const base = '/api/v1/prompts';
const tags = ['prompts'];

export const promptsEndpoints = {
  renderPrompt: endpoint({
    method: 'POST', url: `${base}/:name/render`, summary: 'Render a prompt version or label with variables into messages (with the prompt-injection check)', tags,
    permission: 'asset:read', scope: ({ params }) => [namespaceOf(params.name)],
    params: z.object({ name: AssetName }).strict(), body: RenderPromptBody, responses: { 200: RenderPromptResponse },
  }),
  diffPrompt: endpoint({
    method: 'GET', url: `${base}/:name/versions/:version/prompt-diff`, summary: 'Diff two prompt versions: template lines, model config, variables (default: against the previous version)', tags,
    permission: 'asset:read', scope: ({ params, query }) => [namespaceOf(params.name), ...otherNs(query.other)],
    params: z.object({ name: AssetName, version: VersionRef }).strict(), query: PromptDiffQuery, responses: { 200: PromptDiffResponse },
  }),
};
