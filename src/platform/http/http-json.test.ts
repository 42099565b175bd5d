import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { VersionPage, VersionResponse } from '../../contracts/assets.js';
import { VersionEvaluations } from '../../contracts/evals.js';
import { responseSerialization, serialisableSchema } from './http-json.js';

/** A Fastify app with one route whose responses are serialised as registerRoute does. */
async function serve(responses: Record<number, z.ZodType | null>, body: unknown) {
  const app = Fastify();
  app.route({ method: 'POST', url: '/x', ...responseSerialization(responses), handler: async () => body });
  const res = await app.inject({ method: 'POST', url: '/x?n=notanumber', payload: { any: 'input' } });
  await app.close();
  return res;
}

const T = '2025-01-01T00:00:00.000Z';
const version: z.output<typeof VersionResponse> = {
  kind: 'model', name: 'a/b', version: '1.0.0-rc.1', state: 'ready', digest: 'sha256:x', size: 2 ** 53 - 1, fileCount: 1,
  files: [{ path: 'dir/🤖 "q".bin', size: 2 ** 40, sha256: 'a'.repeat(64) }],
  metadata: { text: 'quote " backslash \\ tab \t nul \u0000 é 日本 🤖 \u2028 lone \ud800', big: 2 ** 64, tiny: 1e-7, sum: 0.1 + 0.2, nested: { list: [1, 'two', null, true, { deep: [] }] }, none: null },
  labels: { 'x/y': 'ü' }, card: null,
  lineage: [{ relation: 'parent', kind: 'model', name: 'a/base', version: '1.0.0', ref: 'a/base:1.0.0' }, { relation: 'base_model', kind: null, name: null, version: null, ref: 'hf:x' }],
  aliases: ['champion'],
  createdAt: T, createdBy: null, readyAt: T, expiresAt: null, archivedAt: null, filesReleasedAt: null, updatedAt: T,
};
/** A model version's document as served: the registry's with the evaluations contributed to it. */
const Doc = VersionResponse.extend({ evaluations: VersionEvaluations.optional() }).strict();
const doc: z.output<typeof Doc> = { ...version, evaluations: [{ run: 'r1', suite: 's:1.0.0', finishedAt: null, passed: null, metrics: { exact: 0.5, missing: null } }] };

describe('response bodies serialised from the contract schema', () => {
  it('compiles the registry documents, nullable unions rewritten as type lists', () => {
    const compiled = responseSerialization({ 200: VersionResponse, 204: null, 404: VersionResponse }).schema?.response;
    expect(Object.keys(compiled ?? {})).toEqual(['200']);
    const lineage = (compiled![200]!.properties as Record<string, { items: { properties: Record<string, unknown> } }>).lineage!.items.properties;
    expect(lineage.kind).toEqual({ type: ['string', 'null'], enum: ['model', 'dataset', 'prompt'] });
    expect(JSON.stringify(compiled)).not.toContain('anyOf');
  });

  it('sends the same document as JSON.stringify: escapes, non-BMP text, big and fractional numbers, nulls, optional keys', async () => {
    for (const d of [doc, { ...doc, files: undefined, evaluations: undefined }]) {
      const res = await serve({ 200: Doc }, d);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const parsed = JSON.parse(res.body) as unknown;
      expect(JSON.stringify(parsed)).toBe(res.body); // compact, escaped as JSON.stringify escapes
      expect(parsed).toEqual(JSON.parse(JSON.stringify(d)));
      expect(Doc.parse(parsed)).toEqual(parsed);
    }
    const page = await serve({ 200: VersionPage }, { items: [version, version], nextCursor: null });
    expect(JSON.parse(page.body)).toEqual(JSON.parse(JSON.stringify({ items: [version, version], nextCursor: null })));
  });

  it('writes only what the strict schema lists, and refuses a document that lacks a required key', async () => {
    const res = await serve({ 200: VersionResponse }, { ...version, secret: 'not in the contract' });
    expect(JSON.parse(res.body)).not.toHaveProperty('secret');
    const { digest: _digest, ...incomplete } = version;
    expect((await serve({ 200: VersionResponse }, incomplete)).statusCode).toBe(500);
  });

  it('keeps JSON.stringify for a route whose schema it cannot serialise faithfully', async () => {
    const A = z.object({ type: z.literal('a'), a: z.string() }).strict();
    const B = z.object({ type: z.literal('b'), b: z.number() }).strict();
    const Tree: z.ZodType<{ children: unknown[] }> = z.lazy(() => z.object({ children: z.array(Tree) }).strict());
    const unsupported = [
      z.object({ shape: z.discriminatedUnion('type', [A, B]) }).strict(),
      z.object({ shape: z.union([A, B]) }).strict(),
      z.object({ pair: z.tuple([z.string(), z.number()]) }).strict(),
      z.intersection(z.union([A, B]), z.object({ extra: z.string() })),
      Tree,
      z.object({ either: z.union([z.string(), z.number()]) }).strict(),
    ];
    for (const schema of unsupported) expect(responseSerialization({ 200: schema })).toEqual({});
    // Through Fastify: with a union a compiled serialiser could have picked branch A and dropped `b`.
    const res = await serve({ 200: z.object({ shape: z.union([A, B]) }).strict() }, { shape: { type: 'b', b: 2 ** 53 - 1 } });
    expect(JSON.parse(res.body)).toEqual({ shape: { type: 'b', b: 2 ** 53 - 1 } });
  });

  it('does not validate or coerce request input with the response schema', async () => {
    const res = await serve({ 200: z.object({ ok: z.boolean() }).strict() }, { ok: true });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"ok":true}');
  });

  it('rejects unknown keywords and unsafe formats; writes records of anything with JSON.stringify', () => {
    expect(serialisableSchema({ type: 'string', format: 'unsafe' })).toBeNull();
    expect(serialisableSchema({ type: 'object', patternProperties: { '^a': {} } })).toBeNull();
    expect(serialisableSchema({ $ref: '#/definitions/x' })).toBeNull();
    expect(serialisableSchema({ anyOf: [{ type: 'null' }, { type: 'integer' }] })).toEqual({ type: ['integer', 'null'] });
    expect(serialisableSchema({ anyOf: [{}, { type: 'null' }] })).toEqual({});
    expect(serialisableSchema({ type: 'object', additionalProperties: {}, propertyNames: { type: 'string' } })).toEqual({});
    expect(serialisableSchema({ type: 'object', additionalProperties: { type: 'string' } })).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
  });
});
