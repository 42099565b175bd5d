/**
 * Routes are data: a route is an endpoint declared in contracts (method, url, zod schemas,
 * permission, scope) plus its handler. The server registers them, validates input with the
 * schemas, enforces the permission and scope in one hook, and renders the OpenAPI document from
 * the same table. Handlers parse nothing themselves and call one service function.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Endpoint, HandlerInput } from '../../contracts/endpoint.js';

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

/** A route: the endpoint's declaration (contracts/endpoint.ts) and its handler. */
export interface RouteDef extends Endpoint {
  handler(ctx: RouteContext<unknown, unknown, unknown>): Promise<unknown>;
}

/** A handler for a declared endpoint (contracts): the route is the declaration plus the handler. */
export function route<E extends Endpoint>(endpoint: E, handler: (ctx: RouteContext<HandlerInput<E>['params'], HandlerInput<E>['query'], HandlerInput<E>['body']>) => Promise<unknown>): RouteDef {
  return { ...endpoint, handler } as unknown as RouteDef;
}
