/** The OpenAPI 3.1 document, rendered from the same route table and zod schemas the server validates with. */
import { z } from 'zod';
import { ErrorEnvelope } from '../contracts/errors.js';
import type { RouteDef } from '../platform/http/http-route.js';

type Json = Record<string, unknown>;

const toSchema = (s: z.ZodType, io: 'input' | 'output'): Json =>
  z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;

export function openApiDocument(routes: readonly RouteDef[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const url = r.url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}').replace(/\*$/, '{path}');
    const op: Json = { summary: r.summary, tags: r.tags, operationId: `${r.method.toLowerCase()}${url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}` };
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const js = toSchema(schema, 'input');
      const props = (js.properties ?? {}) as Record<string, Json>;
      const required = new Set((js.required as string[] | undefined) ?? []);
      for (const [name, s] of Object.entries(props)) parameters.push({ name: name === '*' ? 'path' : name, in: where, required: where === 'path' || required.has(name), schema: s });
    }
    if (url.endsWith('{path}') && !parameters.some((p) => p.name === 'path')) parameters.push({ name: 'path', in: 'path', required: true, schema: { type: 'string' } });
    if (parameters.length) op.parameters = parameters;
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: toSchema(r.body, 'input') } } };
    if (r.rawBody) op.requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
    const responses: Json = {};
    for (const [status, schema] of Object.entries(r.responses)) {
      responses[status] = schema ? { description: 'OK', content: { 'application/json': { schema: toSchema(schema, 'output') } } } : { description: 'OK' };
    }
    responses.default = { description: 'error', content: { 'application/json': { schema: toSchema(ErrorEnvelope, 'output') } } };
    op.responses = responses;
    if (r.permission !== 'public') op.security = [{ bearer: [] }];
    op['x-steward-permission'] = r.permission;
    (paths[url] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Steward API', version, description: 'Registry, artifacts and lifecycle of large language models.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
