/**
 * Routes are data: each feature lists `RouteDef`s (method, url, zod schemas, auth needs,
 * handler); the server registers them, validates input with the schemas, enforces `auth` in
 * one hook, and renders the OpenAPI document from the same table. Handlers parse nothing
 * themselves and call one service function.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

/** What a route needs from the caller's token. `public` routes need none (health, metrics). */
export type Permission =
  | 'public'
  | 'authenticated'
  | 'asset:read'
  | 'asset:write'
  | 'asset:admin'
  | 'token:admin'
  | 'audit:read'
  | 'system:admin';

/** The caller, as the auth hook resolved it. */
export interface Actor {
  /** Token id, or null for anonymous callers of public routes. */
  tokenId: string | null;
  /** Human-readable name for audit and `createdBy`. */
  name: string;
  role: string;
  /** Namespaces the token is limited to; null means all. */
  namespaces: string[] | null;
  clientAddress: string;
  requestId: string;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  req: FastifyRequest;
  reply: FastifyReply;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * How a route relates to namespaces, for tokens limited to some (`Actor.namespaces`):
 * - a function: the namespaces of what the request touches (null = a name without one);
 *   every one must be granted, checked before any lookup so a 403 never reveals existence;
 * - `filter`: a listing; the service narrows results to the granted namespaces;
 * - `any`: not tied to a namespace (whoami, content-addressed uploads);
 * - absent: needs a token with no namespace limit (token admin, GC, audit).
 */
export type RouteScope<P, Q, B> = ((input: { params: P; query: Q; body: B }) => (string | null)[]) | 'filter' | 'any';

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  url: string;
  summary: string;
  tags: string[];
  permission: Permission;
  scope?: RouteScope<P, Q, B>;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Body is a raw byte stream (application/octet-stream), read from `req.raw` by the handler. */
  rawBody?: boolean;
  /** Largest JSON body accepted, in bytes; Fastify's 1 MiB default otherwise. */
  bodyLimit?: number;
  /** Response schemas by status, for the OpenAPI document and contract tests. */
  responses: Record<number, z.ZodType | null>;
  handler(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Identity function that infers P/Q/B from the schemas, so handlers are typed without annotations. */
export function defineRoute<P = undefined, Q = undefined, B = undefined>(def: RouteDef<P, Q, B>): RouteDef {
  return def as unknown as RouteDef;
}
