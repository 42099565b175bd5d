import { describe, expect, it } from 'vitest';
import { compileSchema, jsonSchema, jsonText, jsonValid } from './metric-json.js';
import type { CaseOutcome } from './metric-types.js';

function outcome(output: string, schema: Record<string, unknown> | null = null): CaseOutcome {
  return {
    caseId: 'c1', input: 'q', output, expected: null, references: [], schema, tags: [],
    latencyMs: 100, ttftMs: null, inputTokens: null, outputTokens: null, logprobs: null,
  };
}

describe('jsonText (code fences)', () => {
  it('unwraps one fence with or without a language tag', () => {
    expect(jsonText('```json\n{"a": 1}\n```', true)).toBe('{"a": 1}');
    expect(jsonText('  ```\n[1, 2]\n```  ', true)).toBe('[1, 2]');
    expect(jsonText('```JSON \r\n{"a":1}\r\n```', true)).toBe('{"a":1}');
  });

  it('reads a one-line fence without a tag as content ("```true```" is true)', () => {
    expect(jsonText('```true```', true)).toBe('true');
  });

  it('leaves fences alone when stripping is off, and text without a whole-output fence alone', () => {
    expect(jsonText('```json\n{}\n```', false)).toBe('```json\n{}\n```');
    expect(jsonText('Here: ```json\n{}\n```', true)).toBe('Here: ```json\n{}\n```');
  });
});

describe('json_valid', () => {
  const p = (x: object = {}) => jsonValid.params.parse(x);

  it('passes JSON, fenced JSON by default, and any JSON value', () => {
    expect(jsonValid.score(outcome('{"answer": 42}'), p(), {})).toEqual({ value: 1 });
    expect(jsonValid.score(outcome('```json\n{"answer": 42}\n```'), p(), {})).toEqual({ value: 1 });
    expect(jsonValid.score(outcome(' 3.5 '), p(), {})).toEqual({ value: 1 });
  });

  it('fails text, trailing commas, and fenced JSON when fences are refused', () => {
    const r = jsonValid.score(outcome('{"a": 1,}'), p(), {});
    expect(r.value).toBe(0);
    expect(String(r.detail?.error)).toMatch(/^output is not valid JSON: /);
    expect(jsonValid.score(outcome('Sure! {"a": 1}'), p(), {}).value).toBe(0);
    expect(jsonValid.score(outcome('```json\n{"a": 1}\n```'), p({ stripCodeFence: false }), {}).value).toBe(0);
  });
});

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, email: { type: 'string', format: 'email' } },
  required: ['name', 'age'],
  additionalProperties: false,
};

describe('json_schema', () => {
  const p = (x: object = {}) => jsonSchema.params.parse(x);

  it('passes conforming output against the metric schema', () => {
    expect(jsonSchema.score(outcome('{"name": "Ada", "age": 36}'), p({ schema: PERSON }), {})).toEqual({ value: 1 });
  });

  it('fails non-conforming output and keeps the first error in detail', () => {
    expect(jsonSchema.score(outcome('{"name": "Ada"}'), p({ schema: PERSON }), {})).toEqual({ value: 0, detail: { error: "(root) must have required property 'age'" } });
    expect(jsonSchema.score(outcome('{"name": "Ada", "age": -1}'), p({ schema: PERSON }), {})).toEqual({ value: 0, detail: { error: '/age must be >= 0' } });
    expect(jsonSchema.score(outcome('{"name": "Ada", "age": 1, "x": 0}'), p({ schema: PERSON }), {})).toEqual({ value: 0, detail: { error: "(root) must NOT have additional properties 'x'" } });
  });

  it('checks formats', () => {
    expect(jsonSchema.score(outcome('{"name": "A", "age": 1, "email": "not-an-email"}'), p({ schema: PERSON }), {}).value).toBe(0);
    expect(jsonSchema.score(outcome('{"name": "A", "age": 1, "email": "a@example.com"}'), p({ schema: PERSON }), {}).value).toBe(1);
  });

  it('fails output that is not JSON', () => {
    const r = jsonSchema.score(outcome('name: Ada'), p({ schema: PERSON }), {});
    expect(r.value).toBe(0);
    expect(String(r.detail?.error)).toMatch(/^output is not valid JSON/);
  });

  it("falls back to the case's schema, and cannot score without any", () => {
    expect(jsonSchema.score(outcome('[1, 2]', { type: 'array', items: { type: 'number' } }), p(), {})).toEqual({ value: 1 });
    expect(jsonSchema.score(outcome('[1, "2"]', { type: 'array', items: { type: 'number' } }), p(), {}).value).toBe(0);
    expect(jsonSchema.score(outcome('[]'), p(), {}).value).toBeNull();
  });

  it('understands draft 2020-12 schemas by their $schema', () => {
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }], items: false };
    expect(jsonSchema.score(outcome('["a"]'), p({ schema }), {}).value).toBe(1);
    expect(jsonSchema.score(outcome('["a", 1]'), p({ schema }), {}).value).toBe(0);
  });

  it('refuses a schema that does not compile at parse time; a bad case schema costs only that case', () => {
    const bad = jsonSchema.params.safeParse({ schema: { type: 'strnig' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['schema']);
    expect(bad.error?.issues[0]?.message).toMatch(/^schema does not compile: /);
    const r = jsonSchema.score(outcome('{}', { type: 'strnig' }), p(), {});
    expect(r.value).toBeNull();
    expect(r.error).toMatch(/^case schema does not compile: /);
  });

  it('compiles each distinct schema once', () => {
    const schema = { type: 'object', properties: { n: { type: 'number' } } };
    expect(compileSchema(schema)).toBe(compileSchema(JSON.parse(JSON.stringify(schema)) as Record<string, unknown>));
  });

  it('accepts a schema with an $id more than once (Ajv does not register it globally)', () => {
    const schema = { $id: 'https://example.com/thing', type: 'string' };
    expect(jsonSchema.score(outcome('"x"'), p({ schema }), {}).value).toBe(1);
    expect(jsonSchema.score(outcome('"x"', { ...schema, minLength: 2 }), p(), {}).value).toBe(0);
  });
});
