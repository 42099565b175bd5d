/**
 * JSON response bodies serialised from the route's own contract schema: each 2xx zod schema is
 * turned into JSON Schema (as the OpenAPI document is) and handed to Fastify as the route's
 * `schema.response`, which Fastify compiles once with fast-json-stringify. The zod schema stays
 * the one definition of a body's shape; there is no second one to keep in step.
 *
 * fast-json-stringify writes what the schema declares, not what the object holds: keys a strict
 * object does not list are dropped, a value of the wrong type is coerced, required keys are
 * written first. That is faithful only where the schema describes the body fully and the
 * generated code has no guesswork, so a status is compiled only when its JSON Schema uses
 * nothing but plain types, properties, items, records and nullable values (`anyOf [X, null]`,
 * rewritten as a type list so no validator runs per value). Anything else — unions (of objects
 * or of types), tuples, references, conditionals — keeps Fastify's JSON.stringify for that
 * route: a wrong branch of a union would drop data silently. Fastify does not validate request
 * input against this schema: only `response` is set, and input is validated with zod.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

/** Keywords fast-json-stringify either ignores (annotations, validation) or honours as zod does. */
const PASSIVE = new Set([
  'type', 'description', 'title', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'default', 'const', 'enum', 'pattern', 'format', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'propertyNames',
]);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `anyOf [X, {type: null}]` (either order) as X with "null" added to its types; other schemas as they are. */
function nullable(schema: Json): Json {
  const options = schema.anyOf;
  if (!Array.isArray(options) || options.length !== 2) return schema;
  const i = options.findIndex((o) => isObject(o) && o.type === 'null' && Object.keys(o).length === 1);
  const other = options[1 - i] as unknown;
  if (i === -1 || !isObject(other) || other.anyOf !== undefined) return schema;
  const { anyOf: _anyOf, ...rest } = schema;
  if (other.type === undefined) return { ...rest, ...other }; // any value, null included
  const types = Array.isArray(other.type) ? (other.type as unknown[]) : [other.type];
  return { ...rest, ...other, type: types.includes('null') ? types : [...types, 'null'] };
}

/**
 * A record of anything (`z.record(z.string(), z.unknown())`: metadata) as any value: written by
 * one JSON.stringify call instead of a generated loop calling it per key, which made such a
 * document slower to write than JSON.stringify of the whole.
 */
function anyRecord(schema: Json): Json {
  const { type, additionalProperties, propertyNames: _names, description: _d, ...rest } = schema;
  const free = isObject(additionalProperties) && Object.keys(additionalProperties).length === 0;
  return type === 'object' && free && Object.keys(rest).length === 0 ? {} : schema;
}

/**
 * The schema rewritten for fast-json-stringify (nullable unions as type lists, records of
 * anything as any), or null when it holds a construct whose output could differ from
 * JSON.stringify of a valid document.
 */
export function serialisableSchema(input: unknown): Json | null {
  if (!isObject(input)) return null;
  const schema = anyRecord(nullable(input));
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'format' && value === 'unsafe') return null; // strings written unescaped
    // Of several types, the first whose check passes is written (a Date would be a string first).
    if (key === 'type' && Array.isArray(value) && value.filter((t) => t !== 'null').length > 1) return null;
    if (PASSIVE.has(key)) {
      out[key] = value;
    } else if (key === 'required' && Array.isArray(value)) {
      out[key] = value;
    } else if (key === 'properties' && isObject(value)) {
      const props: Json = {};
      for (const [name, sub] of Object.entries(value)) {
        const s = serialisableSchema(sub);
        if (!s) return null;
        props[name] = s;
      }
      out[key] = props;
    } else if ((key === 'items' || key === 'additionalProperties') && (isObject(value) || (key === 'additionalProperties' && typeof value === 'boolean'))) {
      const s = typeof value === 'boolean' ? value : serialisableSchema(value);
      if (s === null) return null;
      out[key] = s;
    } else {
      return null;
    }
  }
  return out;
}

/**
 * Fastify route options that serialise each 2xx body from its schema where that is faithful
 * (see the module comment); an empty object when no status qualifies.
 */
export function responseSerialization(responses: Readonly<Record<number, z.ZodType | null>>): { schema?: { response: Record<number, Json> } } {
  const response: Record<number, Json> = {};
  for (const [status, schema] of Object.entries(responses)) {
    const code = Number(status);
    if (!schema || code < 200 || code > 299 || code === 204) continue;
    const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any', target: 'draft-7' }) as Json;
    const compiled = serialisableSchema(json);
    if (compiled) response[code] = compiled;
  }
  return Object.keys(response).length ? { schema: { response } } : {};
}
