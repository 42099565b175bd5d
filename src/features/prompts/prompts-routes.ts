/**
 * REST routes of prompts beyond the registry's shared asset shape (`/api/v1/prompts/...` for
 * versions and labels comes from the assets routes): render and diff. Both read, so both need
 * `asset:read` and are scoped by the prompt's namespace (and the other side's, for a diff).
 */
import { z } from 'zod';
import { AssetName, namespaceOf, namespaceOfRef, VersionRef } from '../../contracts/assets.js';
import { PromptDiffQuery, PromptDiffResponse, RenderPromptBody, RenderPromptResponse } from '../../contracts/prompts.js';
import { defineRoute, type RouteDef } from '../../platform/http/http-route.js';
import type { PromptsService } from './prompts-service.js';

const ns = namespaceOf;
/** `other` is a REF of this prompt (no namespace of its own) or NAME:REF. */
const otherNs = (other: string | undefined): (string | null)[] => (other?.includes(':') ? [namespaceOfRef(other)] : []);

const NameParams = z.object({ name: AssetName }).strict();
const VersionParams = z.object({ name: AssetName, version: VersionRef }).strict();

export function promptRoutes(svc: PromptsService): RouteDef[] {
  const base = '/api/v1/prompts';
  const tags = ['prompts'];
  return [
    defineRoute({
      method: 'POST', url: `${base}/:name/render`, summary: 'Render a prompt version or label with variables into messages (with the prompt-injection check)', tags,
      permission: 'asset:read', scope: ({ params }) => [ns(params.name)], params: NameParams, body: RenderPromptBody, responses: { 200: RenderPromptResponse },
      handler: async ({ params, body }) => svc.render(params.name, body),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/versions/:version/prompt-diff`, summary: 'Diff two prompt versions: template lines, model config, variables (default: against the previous version)', tags,
      permission: 'asset:read', scope: ({ params, query }) => [ns(params.name), ...otherNs(query.other)], params: VersionParams, query: PromptDiffQuery, responses: { 200: PromptDiffResponse },
      handler: async ({ params, query }) => svc.diff(params.name, params.version, query.other),
    }),
  ];
}
