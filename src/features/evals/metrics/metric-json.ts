/**
 * JSON metrics: `json_valid` (the output parses as JSON) and `json_schema` (it parses and conforms
 * to a JSON Schema, validated by Ajv). Both accept output wrapped in one Markdown code fence
 * (```json … ```), which chat models add even when told not to; `stripCodeFence: false` refuses it.
 *
 * Schemas: draft-07 by default, 2019-09 or 2020-12 when `$schema` names them; `format` is checked
 * (ajv-formats); unknown keywords are ignored (Ajv `strict: false`), since schemas written for
 * LLM structured output often carry vendor keywords. Remote `$ref`s are never fetched.
 * Each distinct schema is compiled once: compiled validators are memoised by the schema's JSON
 * text in a bounded LRU. This is the one piece of module state in the metrics library; it is keyed
 * by content, so it cannot carry anything from one run into another's results.
 */
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';
import { failed, meanAggregate, type SyncMetricDefinition } from './metric-fns.js';
import type { CaseValue } from './metric-types.js';

// ---- code fences ------------------------------------------------------------------------------

/**
 * One fence around the whole (trimmed) output: ``` plus an optional language tag on its own line,
 * the body, then ```. A tag is only read when a newline follows it, so "```true```" is `true`.
 */
const FENCE = /^```(?:[A-Za-z0-9_+.-]*[ \t]*\r?\n)?([\s\S]*?)\s*```$/;

export function jsonText(output: string, stripCodeFence: boolean): string {
  const trimmed = output.trim();
  if (!stripCodeFence) return trimmed;
  const m = FENCE.exec(trimmed);
  return m ? m[1]!.trim() : trimmed;
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: `output is not valid JSON: ${(err as Error).message}` };
  }
}

// ---- json_valid -------------------------------------------------------------------------------

const JsonValidParams = z.strictObject({ stripCodeFence: z.boolean().default(true) });
type JsonValidParams = z.output<typeof JsonValidParams>;

export const jsonValid: SyncMetricDefinition<JsonValidParams> = {
  name: 'json_valid',
  description: 'Output parses as JSON (one surrounding Markdown code fence allowed by default).',
  params: JsonValidParams,
  higherIsBetter: true,
  unit: '',
  binary: true,
  needs: {},
  score(outcome, params): CaseValue {
    const parsed = parseJson(jsonText(outcome.output, params.stripCodeFence));
    return parsed.ok ? { value: 1 } : { value: 0, detail: { error: parsed.error } };
  },
  aggregate: meanAggregate,
};

// ---- schema compilation -----------------------------------------------------------------------

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = addFormatsModule.default;

type AjvInstance = Ajv | Ajv2019 | Ajv2020;
const AJV_OPTIONS = { strict: false, allErrors: false, addUsedSchema: false, logger: false } as const;
const engines: { draft7?: Ajv; draft2019?: Ajv2019; draft2020?: Ajv2020 } = {};

function engineFor(schema: Record<string, unknown>): AjvInstance {
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (dialect.includes('2020-12')) return (engines.draft2020 ??= withFormats(new Ajv2020(AJV_OPTIONS)));
  if (dialect.includes('2019-09')) return (engines.draft2019 ??= withFormats(new Ajv2019(AJV_OPTIONS)));
  return (engines.draft7 ??= withFormats(new Ajv(AJV_OPTIONS)));
}

function withFormats<T extends AjvInstance>(ajv: T): T {
  addFormats(ajv);
  return ajv;
}

interface Compiled {
  validate: ValidateFunction;
  ajv: AjvInstance;
  schema: AnySchemaObject;
}

/** Distinct schemas kept compiled; a suite rarely has more than a handful. */
const MAX_COMPILED = 256;
const compiled = new Map<string, Compiled>();

/** The validator of a schema, compiled on first use; throws Ajv's error when it does not compile. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit) {
    compiled.delete(key); // re-insert: Map order is the LRU order
    compiled.set(key, hit);
    return hit.validate;
  }
  const ajv = engineFor(schema);
  // A private copy: Ajv keeps its compiled schemas keyed by object, and we remove ours on eviction.
  const own = JSON.parse(key) as AnySchemaObject;
  const validate = ajv.compile(own);
  compiled.set(key, { validate, ajv, schema: own });
  if (compiled.size > MAX_COMPILED) {
    const [oldestKey, oldest] = compiled.entries().next().value as [string, Compiled];
    compiled.delete(oldestKey);
    oldest.ajv.removeSchema(oldest.schema);
  }
  return validate;
}

/** Why a schema does not compile, or null when it does. */
export function schemaProblem(schema: Record<string, unknown>): string | null {
  try {
    compileSchema(schema);
    return null;
  } catch (err) {
    return `schema does not compile: ${(err as Error).message}`;
  }
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  const extra = typeof e.params.additionalProperty === 'string' ? ` '${e.params.additionalProperty}'` : '';
  return `${where} ${e.message ?? 'is invalid'}${extra}`;
}

// ---- json_schema ------------------------------------------------------------------------------

const JsonSchemaParams = z
  .strictObject({
    /** The schema every output must conform to; when absent, each case's own `schema`. */
    schema: z.record(z.string(), z.unknown()).optional(),
    stripCodeFence: z.boolean().default(true),
  })
  .superRefine((p, ctx) => {
    const problem = p.schema ? schemaProblem(p.schema) : null;
    if (problem) ctx.addIssue({ code: 'custom', path: ['schema'], message: problem });
  });
type JsonSchemaParams = z.output<typeof JsonSchemaParams>;

export const jsonSchema: SyncMetricDefinition<JsonSchemaParams> = {
  name: 'json_schema',
  description: "Output is JSON that conforms to a JSON Schema (the metric's `schema`, else the case's).",
  params: JsonSchemaParams,
  higherIsBetter: true,
  unit: '',
  binary: true,
  needs: {},
  score(outcome, params): CaseValue {
    const schema = params.schema ?? outcome.schema;
    if (!schema) return failed('no JSON schema: give the metric a `schema` param or the case a `schema`');
    let validate: ValidateFunction;
    try {
      validate = compileSchema(schema);
    } catch (err) {
      return failed(`case schema does not compile: ${(err as Error).message}`);
    }
    const parsed = parseJson(jsonText(outcome.output, params.stripCodeFence));
    if (!parsed.ok) return { value: 0, detail: { error: parsed.error } };
    if (validate(parsed.value)) return { value: 1 };
    const first = validate.errors?.[0];
    return { value: 0, detail: { error: first ? describeError(first) : 'does not conform to the schema' } };
  },
  aggregate: meanAggregate,
};
