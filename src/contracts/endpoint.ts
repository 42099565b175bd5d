/**
 * Endpoints, declared once: method, path, schemas of params/query/body/responses, the
 * permission a caller needs and how the request touches namespaces. The server registers a
 * handler against each declaration (platform/http/http-route.ts `route`), the OpenAPI document
 * is rendered from them, and the SDK's typed client calls them (sdk/endpoint-call.ts): one
 * table, no second copy of a path or a shape.
 */
import type { z } from 'zod';

/** What an endpoint needs from the caller's token. `public` endpoints need none (health, metrics). */
export type Permission =
  | 'public'
  | 'authenticated'
  | 'asset:read'
  | 'asset:write'
  | 'asset:admin'
  | 'promotion:approve'
  | 'token:admin'
  | 'audit:read'
  | 'system:admin'
  /** What a gateway replica needs: read the route-table snapshot, report usage. */
  | 'gateway:sync';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * How an endpoint relates to namespaces, for tokens limited to some:
 * - a function: the namespaces of what the request touches (null = a name without one); every
 *   one must be granted, checked before any lookup so a 403 never reveals existence. It sees the
 *   raw body (before validation), so it must cope with anything;
 * - `filter`: a listing; the service narrows results to the granted namespaces;
 * - `any`: not tied to a namespace (whoami, content-addressed uploads);
 * - absent: needs a token with no namespace limit (token admin, GC, audit).
 */
export type Scope<P, Q, B> = ((input: { params: P; query: Q; body: B }) => (string | null)[]) | 'filter' | 'any';

type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface Endpoint<PS extends Schema = Schema, QS extends Schema = Schema, BS extends Schema = Schema, RS extends Responses = Responses> {
  method: HttpMethod;
  /** Fastify-style pattern: `/api/v1/models/:name/versions/:version`, `*` for the rest of the path. */
  url: string;
  summary: string;
  tags: readonly string[];
  permission: Permission;
  scope?: Scope<Out<PS>, Out<QS>, Out<BS>>;
  params?: PS;
  query?: QS;
  body?: BS;
  /** The body is a raw byte stream (application/octet-stream), read by the handler itself. */
  rawBody?: boolean;
  /** Largest JSON body accepted, in bytes; 1 MiB otherwise. */
  bodyLimit?: number;
  /** Response schemas by status (null: not JSON, e.g. a file download or an empty 204). */
  responses: RS;
}

export type Responses = Record<number, z.ZodType | null>;

/** Identity that infers the schema types, so handlers and clients are typed without annotations. */
export function endpoint<PS extends Schema = undefined, QS extends Schema = undefined, BS extends Schema = undefined, RS extends Responses = Responses>(
  e: Endpoint<PS, QS, BS, RS>,
): Endpoint<PS, QS, BS, RS> {
  return e;
}

/** The parsed input a handler receives. */
export type HandlerInput<E extends Endpoint> = { params: Out<NonNullable<E['params']>>; query: Out<NonNullable<E['query']>>; body: Out<NonNullable<E['body']>> };

type In<S> = S extends z.ZodType ? z.input<S> : never;
/** What a client sends: only the parts the endpoint has; a query whose fields all have defaults may be left out. */
export type CallInput<E extends Endpoint> =
  E extends Endpoint<infer PS, infer QS, infer BS, Responses>
    ? (PS extends z.ZodType ? { params: In<PS> } : { params?: undefined }) &
        (QS extends z.ZodType ? { query?: Partial<In<QS>> } : { query?: undefined }) &
        (BS extends z.ZodType ? { body: In<BS> } : { body?: undefined })
    : never;

type SuccessStatus = 200 | 201 | 202 | 204;
/** What a successful call answers: the JSON of its 2xx response schema(s). */
export type CallOutput<E extends Endpoint> = {
  [K in keyof E['responses'] & SuccessStatus]: E['responses'][K] extends z.ZodType ? z.output<E['responses'][K]> : undefined;
}[keyof E['responses'] & SuccessStatus];
