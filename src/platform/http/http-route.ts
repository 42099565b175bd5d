/**
 * Routes are data: a route is an endpoint declared in contracts (method, url, zod schemas,
 * permission, scope) plus its handler. The server registers them, validates input with the
 * schemas, enforces the permission and scope in one hook, and renders the OpenAPI document from
 * the same table. Handlers parse nothing themselves and call one service function.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Endpoint, HandlerInput, HttpMethod, Permission, Scope } from '../../contracts/endpoint.js';

export type { Permission } from '../../contracts/endpoint.js';

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

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  url: string;
  summary: string;
  tags: readonly string[];
  permission: Permission;
  scope?: Scope<P, Q, B>;
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

/** A handler for a declared endpoint (contracts): the route is the declaration plus the handler. */
export function route<E extends Endpoint>(endpoint: E, handler: (ctx: RouteContext<HandlerInput<E>['params'], HandlerInput<E>['query'], HandlerInput<E>['body']>) => Promise<unknown>): RouteDef {
  return { ...endpoint, handler } as unknown as RouteDef;
}
