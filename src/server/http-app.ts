/**
 * The HTTP application: registers the route table, runs the one auth hook and the one
 * validation step keyed off each route's definition, renders every error as the contract's
 * envelope, and exposes health, readiness, metrics and the OpenAPI document.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { jsonDeeperThan, MAX_JSON_DEPTH } from '../contracts/common.js';
import { AppError } from '../platform/errors.js';
import { envelope, toAppError, zodToAppError } from '../platform/http/http-errors.js';
import { responseSerialization } from '../platform/http/http-json.js';
import { requestLogController, type RequestLogPolicy } from '../platform/http/http-log.js';
import type { Actor, RouteDef } from '../platform/http/http-route.js';
import type { Logger } from '../platform/log.js';
import { openApiDocument } from './openapi.js';
import { registerWebUi } from './web-ui.js';

export interface HttpAppDeps {
  logger: Logger;
  routes: readonly RouteDef[];
  authenticate(header: string | undefined, clientAddress: string, requestId: string): Promise<Actor>;
  authorize(actor: Actor, permission: RouteDef['permission']): void;
  metrics: Registry;
  /** Which requests are logged at info (the rest at debug). */
  requestLog: RequestLogPolicy;
  /** Throws when a dependency (database, blob store) is not reachable. */
  ready(): Promise<Record<string, string>>;
  version: string;
  /**
   * The gateway's hot path: requests under `/v1/` go to it straight from node:http, before
   * Fastify (no routing, hooks or logging of the control plane on the data plane's path).
   */
  dataPlane?: (req: IncomingMessage, res: ServerResponse) => void;
  /** The built web UI to serve at `/` (server/web-ui.ts); nothing is served there when it is absent or not built. */
  webRoot?: string;
}

/** Longest path parameter the router matches (names, versions, file paths are all shorter). */
const MAX_PARAM_LENGTH = 512;

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
}

export function buildHttpApp(deps: HttpAppDeps): FastifyInstance {
  const dataPlane = deps.dataPlane;
  const app: FastifyInstance = Fastify({
    ...(dataPlane
      ? {
          serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
            http.createServer((req, res) => (req.url?.startsWith('/v1/') ? dataPlane(req, res) : handler(req, res))),
        }
      : {}),
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: requestLogController(deps.requestLog),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Model manifests can list many files; anything larger than this is not a manifest.
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    forceCloseConnections: false,
    // URLs the router refuses before any route is chosen (a parameter over maxParamLength, bad
    // percent-encoding) get the envelope like every other error, not Fastify's own body.
    frameworkErrors: (err, req, reply) => {
      const appErr =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new AppError('invalid_argument', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters; no name, version or file path is that long`, { maxLength: MAX_PARAM_LENGTH })
          : toAppError(err);
      void (reply as FastifyReply).code(appErr.status).send(envelope(appErr, req.id));
    },
  });
  app.decorateRequest('actor', null);

  // Byte streams (blob uploads) are read by their handler from req.raw, never buffered here.
  app.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null));
  // JSON as Fastify parses it (prototype-poisoning safe), except that an empty body is no body:
  // clients often label body-less POST/DELETE requests as JSON, and the route decides what it needs.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // Nesting is bounded before parsing, for every JSON body: a deeply nested value would exhaust
  // the stack of whatever walks it later (validation, serialisation, storage) — see MAX_JSON_DEPTH.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    if (jsonDeeperThan(text, MAX_JSON_DEPTH)) {
      return done(new AppError('invalid_argument', `the JSON body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels; flatten it`, { maxDepth: MAX_JSON_DEPTH }), undefined);
    }
    jsonParser(req, text, done);
  });

  const duration = new Histogram({
    name: 'steward_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    // From 0.5 ms (cached reads) to 60 s (large uploads).
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [deps.metrics],
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    duration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => {
    const appErr = toAppError(err);
    if (appErr.code === 'internal') req.log.error({ err: appErr.cause ?? err }, 'request failed');
    if (appErr.code === 'rate_limited' && typeof appErr.details?.retryAfterSeconds === 'number') void reply.header('retry-after', String(appErr.details.retryAfterSeconds));
    // RFC 9110 §15.5.17: a 416 names the representation's length.
    if (appErr.code === 'range_not_satisfiable' && typeof appErr.details?.size === 'number') void reply.header('content-range', `bytes */${appErr.details.size}`);
    if (!reply.sent && !reply.raw.headersSent) void reply.code(appErr.status).send(envelope(appErr, req.id));
  });
  const webPage = deps.webRoot ? registerWebUi(app, deps.webRoot) : null;
  app.setNotFoundHandler((req, reply) => {
    if (webPage?.(req, reply)) return;
    const err = new AppError('not_found', `no route ${req.method} ${req.url.split('?')[0]}; see /api/v1/openapi.json`);
    void reply.code(404).send(envelope(err, req.id));
  });

  for (const def of deps.routes) registerRoute(app, def, deps);

  app.get('/healthz', async () => ({ status: 'ok', version: deps.version }));
  app.get('/readyz', async (_req, reply) => {
    try {
      return { status: 'ready', checks: await deps.ready() };
    } catch (err) {
      // A store that says why (store_unavailable: which bucket, what is wrong) keeps its code.
      const e = err instanceof AppError && err.status === 503 ? err : new AppError('unavailable', (err as Error).message);
      return reply.code(503).send(envelope(new AppError(e.code, `not ready: ${e.message}`, e.details), _req.id));
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.contentType);
    return deps.metrics.metrics();
  });
  const doc = openApiDocument(deps.routes, deps.version);
  app.get('/api/v1/openapi.json', async () => doc);
  return app;
}

function clientAddress(req: FastifyRequest): string {
  // A connection through the local upload socket (a Unix socket) has no IP address.
  return req.ip ?? 'unix-socket';
}

function registerRoute(app: FastifyInstance, def: RouteDef, deps: HttpAppDeps): void {
  // An endpoint with one success status other than 200 (201 Created) answers it unless the handler says otherwise.
  const success = Object.keys(def.responses).map(Number).filter((s) => s >= 200 && s < 300);
  const defaultStatus = success.length === 1 && success[0] !== 200 ? success[0] : undefined;
  app.route({
    // Fastify's implicit HEAD route would overwrite the handler's Content-Length; GET handlers answer HEAD themselves.
    method: def.method === 'GET' ? ['GET', 'HEAD'] : def.method,
    url: def.url,
    ...(def.bodyLimit ? { bodyLimit: def.bodyLimit } : {}),
    config: { permission: def.permission },
    // 2xx bodies serialised from the contract's schema (fast-json-stringify) where that is faithful.
    ...responseSerialization(def.responses),
    // Before the body is read or parsed: an unauthenticated caller costs no parsing, and every
    // refusal is a 401/403 whatever the body holds.
    onRequest: async (req) => {
      if (def.permission === 'public') return;
      const actor = await deps.authenticate(req.headers.authorization, clientAddress(req), req.id);
      req.actor = actor;
      deps.authorize(actor, def.permission);
    },
    handler: async (req, reply) => {
      const params = parse('path parameters', def.params, req.params);
      const query = parse('query', def.query, req.query);
      // Namespace grants are checked on the raw body too, before validation, so that a foreign
      // namespace is refused the same way whether or not the rest of the request is valid.
      if (req.actor?.namespaces) checkScope(def, req.actor.namespaces, { params, query, body: req.body ?? {} });
      if (def.rawBody && req.headers['content-type'] && !req.headers['content-type'].startsWith('application/octet-stream')) {
        throw new AppError('invalid_argument', 'send the bytes as Content-Type: application/octet-stream');
      }
      const body = def.rawBody ? undefined : parse('body', def.body, req.body ?? (def.body ? {} : undefined));
      const actor: Actor = req.actor ?? { tokenId: null, name: 'anonymous', role: 'none', namespaces: null, clientAddress: clientAddress(req), requestId: req.id };
      if (defaultStatus) reply.code(defaultStatus);
      const result = await def.handler({ params, query, body, actor, req, reply });
      // A streamed response has begun (or its client went away mid-way): nothing more to send.
      if (reply.sent || reply.raw.headersSent) return reply;
      return result ?? null;
    },
  });
}

/** Enforces a namespace-limited token's grant before the handler runs (see RouteScope). */
function checkScope(def: RouteDef, granted: readonly string[], input: { params: unknown; query: unknown; body: unknown }): void {
  if (def.scope === 'any' || def.scope === 'filter') return;
  if (!def.scope) throw new AppError('permission_denied', `this token is limited to namespace(s) ${granted.join(', ')}; this operation needs an unrestricted token`);
  let touched: (string | null)[];
  try {
    touched = def.scope(input);
  } catch {
    // A body too malformed to read namespaces from: refuse, as for any name outside the grant.
    touched = [null];
  }
  for (const ns of touched) {
    if (ns === null || !granted.includes(ns)) {
      throw new AppError('permission_denied', `this token is limited to namespace(s) ${granted.join(', ')}`, { namespaces: [...granted] });
    }
  }
}

function parse(where: string, schema: RouteDef['params'], value: unknown): unknown {
  if (!schema) return value;
  const res = schema.safeParse(value);
  if (!res.success) throw zodToAppError(where, res.error);
  return res.data;
}
