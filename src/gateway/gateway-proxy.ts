/**
 * The gateway's hot path, on plain node:http (no framework): authenticate the key from the
 * route table, read and check the body, resolve the model to a route, pick an arm (weighted,
 * or sticky by key or header), admit against the key's limits (reserving its worst case), then
 * proxy to a target of the arm, retrying other targets on connection errors, timeouts, 5xx and
 * 429 before the first byte reaches the client, then the route's fallbacks. Streams pass
 * through as they arrive (whole events, never buffered); the client going away aborts the
 * upstream request. Each request is metered and settled against the key's limits.
 *
 * Errors use OpenAI's envelope and statuses: 400 bad request, 401 key, 404 model, 413 body,
 * 429 limits (`insufficient_quota` for a budget), 502/503/504 upstream.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonDeeperThan, MAX_JSON_DEPTH } from '../contracts/common.js';
import type { UsageRecord } from '../contracts/gateway.js';
import type { Logger } from '../platform/log.js';
import type { ResponseCache } from './gateway-cache.js';
import type { Admission, Limiter } from './gateway-limits.js';
import type { Meter } from './gateway-meter.js';
import { dispatch, type UpstreamCall } from './gateway-call.js';
import { pickArm, stickyPoint, type Arm, type KeyEntry, type Route, type RouteTable, type Target } from './gateway-table.js';
import type { Upstreams } from './gateway-upstreams.js';

export interface ProxySettings {
  maxBodyBytes: number;
  /** Time to the upstream's response headers (and between body chunks). */
  upstreamTimeoutMs: number;
  /** Targets tried per request before fallbacks (the first try included). */
  maxAttempts: number;
  /** What a request without max_tokens reserves (and is held to, when its key has a budget). */
  defaultMaxTokens: number;
  /** Serve without keys (a gateway behind its own auth): every model, no limits. */
  allowAnonymous: boolean;
}

type Kind = 'chat' | 'completions' | 'embeddings';
const PATHS: Record<string, Kind> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completions', '/v1/embeddings': 'embeddings' };
const UPSTREAM_PATH: Record<Kind, string> = { chat: '/chat/completions', completions: '/completions', embeddings: '/embeddings' };

class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function sendError(res: ServerResponse, e: GatewayError): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
  res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...e.headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > max) throw new GatewayError(413, 'invalid_request_error', 'request_too_large', `The request body is ${declared} bytes; the gateway accepts at most ${max}.`);
  // Events rather than an async iterator: a promise per chunk costs more than the rest of the read.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new GatewayError(413, 'invalid_request_error', 'request_too_large', `The request body exceeds ${max} bytes, the gateway's limit.`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** What a failed attempt was: retried on another target when nothing reached the client yet. */
class AttemptError extends Error {
  constructor(
    message: string,
    /** Worth another attempt: a connection error, a timeout (another target only), a 5xx or 429. */
    readonly retryable: boolean,
    readonly status: number,
    readonly body: Buffer | null = null,
    readonly contentType: string | null = null,
    /** Says the target is unwell (counts toward its ejection): connection errors, timeouts, 5xx. */
    readonly unhealthy = false,
  ) {
    super(message);
  }
}

interface Usage {
  input: number;
  output: number;
}

function usageOf(v: unknown): Usage | null {
  const u = (v as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  if (!u || typeof u !== 'object') return null;
  return { input: Number(u.prompt_tokens) || 0, output: Number(u.completion_tokens) || 0 };
}

/** Whether an answer (already parsed) is a refusal: finish_reason `content_filter` or a `message.refusal`. */
function refusalOf(v: unknown): boolean {
  const choices = (v as { choices?: { finish_reason?: unknown; message?: { refusal?: unknown } }[] }).choices;
  return Array.isArray(choices) && choices.some((ch) => ch?.finish_reason === 'content_filter' || (ch?.message?.refusal !== undefined && ch.message.refusal !== null));
}

export function createProxy(deps: {
  table: () => RouteTable | null;
  limiter: Limiter;
  meter: Meter;
  upstreams: Upstreams;
  cache: ResponseCache;
  log: Logger;
  settings: ProxySettings;
}) {
  const { limiter, meter, upstreams, cache, log, settings } = deps;

  function settle(a: Admission, actual: { tokens: number; costUsd: number }): void {
    Promise.resolve(limiter.settle(a, actual)).catch((err: unknown) => log.warn({ err: (err as Error).message, key: a.key }, 'gateway: settling a request against its key limits failed'));
  }

  function authenticate(req: IncomingMessage, table: RouteTable, now: number): KeyEntry | null {
    const h = req.headers.authorization;
    if (!h) {
      if (settings.allowAnonymous) return null;
      throw new GatewayError(401, 'invalid_request_error', 'missing_api_key', "You didn't provide an API key. Send it as Authorization: Bearer sk-stw-…; create one with steward keys create.");
    }
    const secret = h.startsWith('Bearer ') ? h.slice(7).trim() : '';
    const key = secret ? table.key(secret) : undefined;
    if (!key) throw new GatewayError(401, 'invalid_request_error', 'invalid_api_key', `Incorrect API key provided${secret ? `: ${secret.slice(0, 10)}…` : ''}. It is unknown or revoked; create one with steward keys create.`);
    if (key.expiresAtMs !== null && key.expiresAtMs <= now) throw new GatewayError(401, 'invalid_request_error', 'expired_api_key', `The API key ${key.id} expired at ${key.expiresAt}; create a new one with steward keys create.`);
    return key;
  }

  function resolve(table: RouteTable, model: string, key: KeyEntry | null): Route {
    const r = table.resolve(model, key);
    if ('route' in r) return r.route;
    if (r.error === 'no_deployment') throw new GatewayError(503, 'server_error', 'no_deployment', r.message);
    throw new GatewayError(404, 'invalid_request_error', 'model_not_found', r.message, 'model');
  }

  function armFor(route: Route, key: KeyEntry | null, req: IncomingMessage): Arm {
    if (route.arms.length === 1) return route.arms[0]!;
    let identity: string | undefined;
    if (route.sticky === 'key') identity = key?.id;
    else if (route.sticky !== 'none') {
      const v = req.headers[route.sticky.header];
      identity = Array.isArray(v) ? v[0] : v;
    }
    return pickArm(route, identity ? stickyPoint(identity) : Math.random())!;
  }

  /** Targets of an arm in try order: a random rotation (spreads load), available ones only. */
  function order(arm: Arm, now: number): Target[] {
    const n = arm.targets.length;
    if (n === 0) return [];
    const start = n === 1 ? 0 : Math.floor(Math.random() * n);
    const out: Target[] = [];
    for (let i = 0; i < n; i++) {
      const t = arm.targets[(start + i) % n]!;
      if (upstreams.available(t.id, now)) out.push(t);
    }
    return out;
  }

  /** Origin and path prefix of a base URL, parsed once. */
  const parsed = new Map<string, { origin: string; path: string }>();
  function split(baseUrl: string): { origin: string; path: string } {
    let p = parsed.get(baseUrl);
    if (!p) {
      const url = new URL(baseUrl);
      p = { origin: url.origin, path: url.pathname.replace(/\/+$/, '') };
      if (parsed.size > 10_000) parsed.clear();
      parsed.set(baseUrl, p);
    }
    return p;
  }

  /** Sends the request to a target; resolves at the answer's headers. `c.inflight` holds the call, so a client going away aborts it. */
  async function send(target: Target, arm: Arm, kind: Kind, body: string, c: { inflight: UpstreamCall | null; gone: boolean }, reqId: string): Promise<UpstreamCall> {
    if (c.gone) throw new Error('the client went away');
    const url = split(target.baseUrl);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': reqId };
    if (arm.deployment.apiKey) headers.authorization = `Bearer ${arm.deployment.apiKey}`;
    const call = dispatch(upstreams.pool(url.origin), { method: 'POST', path: `${url.path}${UPSTREAM_PATH[kind]}`, headers, body, headersTimeout: settings.upstreamTimeoutMs, bodyTimeout: settings.upstreamTimeoutMs });
    c.inflight = call;
    try {
      return await call.started;
    } catch (err) {
      if (c.gone) throw err;
      const e = err as { code?: string; message?: string };
      const timeout = e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT';
      throw new AttemptError(`${timeout ? 'timed out' : 'could not connect'} (${e.code ?? e.message})`, true, timeout ? 504 : 502, null, null, true);
    }
  }

  /** The whole body of an answer; a connection cut before its end is a failed attempt (retried). */
  async function bodyOf(up: UpstreamCall, c: { gone: boolean }): Promise<Buffer> {
    try {
      return await up.body();
    } catch (err) {
      if (c.gone) throw err;
      throw new AttemptError(`the upstream closed the connection before its answer ended (${(err as Error).message})`, true, 502, null, null, true);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const now = Date.now();
    const table = deps.table();
    const q = req.url!.indexOf('?');
    const path = q < 0 ? req.url! : req.url!.slice(0, q);
    if (!table) throw new GatewayError(503, 'server_error', 'not_ready', 'The gateway has no route table yet: the control plane has not answered since it started. Try again shortly.', null, { 'retry-after': '1' });

    if (path === '/v1/models' && req.method === 'GET') {
      const key = authenticate(req, table, now);
      sendJson(res, 200, { object: 'list', data: table.modelsFor(key).map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owned_by })) });
      return;
    }
    const kind = PATHS[path];
    if (!kind) throw new GatewayError(404, 'invalid_request_error', 'unknown_url', `Unknown request URL: ${req.method} ${path}. The gateway serves POST /v1/chat/completions, /v1/completions, /v1/embeddings and GET /v1/models.`);
    if (req.method !== 'POST') throw new GatewayError(405, 'invalid_request_error', 'method_not_allowed', `${path} takes POST.`, null, { allow: 'POST' });
    const key = authenticate(req, table, now);

    const raw = await readBody(req, settings.maxBodyBytes);
    let body: Record<string, unknown>;
    const text = raw.toString('utf8');
    if (jsonDeeperThan(text, MAX_JSON_DEPTH)) throw new GatewayError(400, 'invalid_request_error', 'invalid_json', `The JSON body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels.`);
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new GatewayError(400, 'invalid_request_error', 'invalid_json', 'We could not parse the JSON body of your request. The body must be a JSON object.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GatewayError(400, 'invalid_request_error', 'invalid_json', 'The body must be a JSON object.');
    const model = body.model;
    if (typeof model !== 'string' || !model) throw new GatewayError(400, 'invalid_request_error', 'missing_model', 'You must provide a model parameter: NAME, NAME:ENVIRONMENT or NAME@VERSION.', 'model');
    const stream = body.stream === true && kind !== 'embeddings';

    const route = resolve(table, model, key);
    const reqId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
    const result = await serve(req, res, { table, key, route, kind, body, raw, stream, reqId, started, now, depth: 0, inflight: null, gone: false });
    if (route.shadow && Math.random() * 100 < route.shadow.percent) shadowCopy(route, route.shadow.arm, kind, body, key, reqId);
    void result;
  }

  interface Call {
    table: RouteTable;
    key: KeyEntry | null;
    route: Route;
    kind: Kind;
    body: Record<string, unknown>;
    raw: Buffer;
    stream: boolean;
    reqId: string;
    started: number;
    now: number;
    depth: number;
    /** The upstream request under way, aborted if the client goes away (then `gone`). */
    inflight: UpstreamCall | null;
    gone: boolean;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, c: Call): Promise<void> {
    const { route, key, kind, body } = c;
    const arm = armFor(route, key, req);
    const pricing = arm.deployment.pricing;
    const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : null;
    const inputEstimate = Math.ceil(c.raw.length / 3);
    const outputReserve = kind === 'embeddings' ? 0 : (maxTokens ?? settings.defaultMaxTokens);
    const est = { tokens: inputEstimate + outputReserve, costUsd: pricing ? (inputEstimate * pricing.inputPerMTok + outputReserve * pricing.outputPerMTok) / 1e6 : 0 };

    let admission: Admission | null = null;
    if (key) {
      const a = await limiter.admit(key, est, c.now);
      if (!a.ok) {
        const headers: Record<string, string> = a.retryAfterSeconds !== null ? { 'retry-after': String(a.retryAfterSeconds) } : {};
        if (a.limit === 'budget') throw new GatewayError(429, 'insufficient_quota', 'insufficient_quota', a.message, null, headers);
        if (a.limit === 'unavailable') throw new GatewayError(503, 'server_error', 'limits_unavailable', a.message, null, headers);
        throw new GatewayError(429, a.limit === 'rpm' ? 'requests' : 'tokens', 'rate_limit_exceeded', a.message, null, headers);
      }
      admission = a;
    }

    // Attempts on this arm that failed (5xx, connection, timeout), retried or not: metered so a
    // rollout's analysis sees a failing deployment that retries hide from the client.
    let failedAttempts = 0;
    const record = (r: Partial<UsageRecord> & { status: number; deployment: string | null; version: string | null; input: number; output: number; ttftMs: number | null; cached?: boolean }): void => {
      const costUsd = pricing && !r.cached ? (r.input * pricing.inputPerMTok + r.output * pricing.outputPerMTok) / 1e6 : 0;
      if (admission) settle(admission, { tokens: r.input + r.output, costUsd });
      admission = null;
      meter.record({
        at: new Date(c.now).toISOString(),
        keyId: key?.id ?? null,
        namespace: key?.namespace ?? route.namespace,
        model: route.model,
        version: r.version,
        deployment: r.deployment,
        environment: route.environment,
        endpoint: kind,
        status: r.status,
        stream: c.stream,
        shadow: false,
        cached: r.cached ?? false,
        latencyMs: performance.now() - c.started,
        ttftMs: r.ttftMs,
        inputTokens: r.input,
        outputTokens: r.output,
        costUsd,
        requestId: c.reqId,
        ...(r.refusal !== undefined ? { refusal: r.refusal } : {}),
        upstreamErrors: failedAttempts,
      });
    };

    // Response cache: exact match of a deterministic, non-streamed request (opt-in per model).
    const cacheable = route.cache !== null && !c.stream && body.temperature === 0;
    const cacheKey = cacheable ? cache.keyOf(route, kind, body) : null;
    if (cacheKey) {
      const hit = cache.get(cacheKey, c.now);
      if (hit) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': hit.body.length, 'x-steward-cache': 'hit', 'x-steward-version': hit.version });
        res.end(hit.body);
        record({ status: 200, deployment: hit.deployment, version: hit.version, input: 0, output: 0, ttftMs: null, cached: true });
        return;
      }
    }

    // A key with a budget is held to its reservation: no max_tokens means the default.
    const upstreamBody = JSON.stringify({ ...body, model: arm.deployment.upstreamModel, ...(maxTokens === null && key?.budgetUsd != null && kind !== 'embeddings' ? { max_tokens: settings.defaultMaxTokens } : {}) });
    const onClose = () => {
      if (res.writableFinished) return;
      c.gone = true;
      c.inflight?.abort(new Error('the client went away'));
    };
    res.once('close', onClose);

    let lastError: AttemptError | null = null;
    let attempts = 0;
    const targets = order(arm, c.now);
    if (targets.length === 0) {
      const ids = arm.targets.map((t) => t.id);
      lastError = new AttemptError(
        arm.targets.length === 0
          ? `No ready replica serves ${route.model}${route.environment ? ` in ${route.environment}` : ''} (deployment ${arm.deployment.id}).`
          : `Every replica of ${route.model} is failing and cooling down; retry in ${Math.ceil(upstreams.retryAfterMs(ids, c.now) / 1000)} s.`,
        true,
        503,
      );
    }
    // Each available target in turn (a single one is tried again), up to maxAttempts.
    for (let i = 0; targets.length > 0 && i < settings.maxAttempts; i++) {
      const target = targets[i % targets.length]!;
      // A target again (a single one): not after a timeout, nor once it is ejected.
      if (i >= targets.length && (lastError?.status === 504 || !upstreams.available(target.id, Date.now()))) continue;
      if (attempts > 0) meter.metrics.retries.inc();
      attempts++;
      try {
        await attempt(res, c, arm, target, upstreamBody, record, cacheKey);
        upstreams.succeeded(target.id);
        return;
      } catch (err) {
        if (c.gone) {
          record({ status: 499, deployment: arm.deployment.id, version: target.version, input: 0, output: 0, ttftMs: null });
          return;
        }
        if (!(err instanceof AttemptError)) throw err;
        if (err.unhealthy) failedAttempts++;
        if (err.unhealthy && upstreams.failed(target.id, Date.now())) {
          meter.metrics.ejections.inc();
          log.warn({ target: target.id, reason: err.message }, 'gateway: target ejected after repeated failures');
        }
        lastError = err;
        if (!err.retryable || res.headersSent) break;
      }
    }
    res.off('close', onClose);

    // Fallbacks: other models, once each, when this one could not answer at all.
    if (lastError?.retryable && !res.headersSent && c.depth === 0) {
      for (const fb of route.fallbacks) {
        const r = c.table.resolve(fb, key);
        if (!('route' in r)) continue;
        if (admission) settle(admission, { tokens: 0, costUsd: 0 });
        admission = null;
        try {
          await serve(req, res, { ...c, route: r.route, depth: 1 });
          return;
        } catch (err) {
          if (!(err instanceof GatewayError) || res.headersSent) throw err;
        }
      }
    }
    const e = lastError ?? new AttemptError('no target', true, 503);
    record({ status: e.status, deployment: arm.deployment.id, version: null, input: 0, output: 0, ttftMs: null });
    if (e.body && !res.headersSent) {
      res.writeHead(e.status, { 'content-type': e.contentType ?? 'application/json', 'content-length': e.body.length });
      res.end(e.body);
      return;
    }
    const code = e.status === 504 ? 'upstream_timeout' : e.status === 503 ? 'upstream_unavailable' : 'bad_gateway';
    throw new GatewayError(e.status, 'server_error', code, `${e.message}${attempts > 1 ? ` (${attempts} attempts)` : ''}`, null, e.status === 503 ? { 'retry-after': '1' } : {});
  }

  async function attempt(
    res: ServerResponse,
    c: Call,
    arm: Arm,
    target: Target,
    body: string,
    record: (r: { status: number; deployment: string | null; version: string | null; input: number; output: number; ttftMs: number | null; refusal?: boolean }) => void,
    cacheKey: string | null,
  ): Promise<void> {
    const up = await send(target, arm, c.kind, body, c, c.reqId);
    const type = String(up.headers['content-type'] ?? '');
    const common = { 'x-steward-deployment': arm.deployment.id, 'x-steward-version': target.version, 'x-request-id': c.reqId };
    if (up.statusCode >= 400) {
      const buf = await bodyOf(up, c);
      const retryable = up.statusCode >= 500 || up.statusCode === 429;
      throw new AttemptError(`the upstream answered ${up.statusCode}`, retryable, up.statusCode, type.includes('json') ? buf : null, type || null, up.statusCode >= 500);
    }
    if (c.stream && type.includes('text/event-stream')) return streamThrough(res, c, arm, target, up, common, record);

    // Not streamed (or a stream asked of an upstream that answers only JSON: it is re-framed as SSE).
    const buf = await bodyOf(up, c);
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch {
      throw new AttemptError(`the upstream answered ${up.statusCode} with a body that is not JSON`, false, 502);
    }
    if (typeof parsed !== 'object' || parsed === null || (c.kind !== 'embeddings' && !Array.isArray((parsed as { choices?: unknown }).choices))) {
      throw new AttemptError('the upstream answered JSON that is not an OpenAI response (no choices)', false, 502);
    }
    const usage = usageOf(parsed) ?? { input: 0, output: 0 };
    if (c.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...common });
      for (const chunk of toChunks(parsed as Record<string, unknown>, c.kind)) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      res.end('data: [DONE]\n\n');
      record({ status: 200, deployment: arm.deployment.id, version: target.version, input: usage.input, output: usage.output, ttftMs: performance.now() - c.started });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': buf.length, ...common });
    res.end(buf);
    if (cacheKey) cache.set(cacheKey, { body: buf, version: target.version, deployment: arm.deployment.id }, c.now);
    record({ status: 200, deployment: arm.deployment.id, version: target.version, input: usage.input, output: usage.output, ttftMs: null, refusal: refusalOf(parsed) });
  }

  /**
   * Passes an SSE body through: bytes up to the last complete event are written as they arrive
   * (an event is never split, so an error event can always follow), usage is read from the
   * event that carries it, or output tokens counted one per content event when none does.
   */
  async function streamThrough(
    res: ServerResponse,
    c: Call,
    arm: Arm,
    target: Target,
    up: UpstreamCall,
    common: Record<string, string>,
    record: (r: { status: number; deployment: string | null; version: string | null; input: number; output: number; ttftMs: number | null }) => void,
  ): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...common });
    res.flushHeaders();
    let pending: Buffer | null = null;
    let ttftMs: number | null = null;
    let usage: Usage | null = null;
    let contentEvents = 0;
    const scan = (events: string): void => {
      // Cheap: only an event mentioning usage is parsed.
      if (ttftMs === null && (/"(content|text)":"[^"]/.test(events))) ttftMs = performance.now() - c.started;
      let at = 0;
      while ((at = events.indexOf('data:', at)) >= 0) {
        const end = events.indexOf('\n', at);
        const line = events.slice(at + 5, end < 0 ? undefined : end).trim();
        at = end < 0 ? events.length : end;
        if (line.includes('"usage"') && line.includes('_tokens')) {
          try {
            usage = usageOf(JSON.parse(line)) ?? usage;
          } catch {
            /* not JSON: passed through as it is */
          }
        }
        if ((line.includes('"content":"') && !line.includes('"content":""')) || (line.includes('"text":"') && !line.includes('"text":""'))) contentEvents++;
      }
    };
    const done = (status: number) => {
      const u: Usage = usage ?? { input: Math.ceil(c.raw.length / 4), output: contentEvents };
      record({ status, deployment: arm.deployment.id, version: target.version, input: u.input, output: u.output, ttftMs });
    };
    const resume = () => up.resume();
    return new Promise<void>((resolve) => {
      up.consume({
        data(chunk) {
          const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
          const cut = buf.lastIndexOf('\n\n');
          if (cut < 0) {
            pending = buf;
            return;
          }
          const complete = buf.subarray(0, cut + 2);
          pending = cut + 2 < buf.length ? buf.subarray(cut + 2) : null;
          // A slow client: the upstream waits (its socket stops being read) until the client drains.
          if (!res.write(complete)) {
            up.pause();
            res.once('drain', resume);
          }
          scan(complete.toString('utf8'));
        },
        end() {
          if (pending) {
            res.write(pending);
            scan(pending.toString('utf8'));
          }
          res.end();
          done(200);
          resolve();
        },
        error(err) {
          res.off('drain', resume);
          // The client went away: the upstream request was aborted with it.
          if (c.gone || res.destroyed) done(499);
          else {
            if (!res.writableEnded) {
              const message = `The upstream stream failed midway (${err.message}); the answer is incomplete.`;
              res.end(`data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: 'upstream_stream_error' } })}\n\n`);
            }
            done(502);
            log.warn({ deployment: arm.deployment.id, target: target.id, err: err.message }, 'gateway: upstream stream failed midway');
          }
          resolve();
        },
      });
    });
  }

  /** A shadow copy: sent after the primary, never awaited, its answer discarded but metered. */
  function shadowCopy(route: Route, arm: Arm, kind: Kind, body: Record<string, unknown>, key: KeyEntry | null, reqId: string): void {
    const target = order(arm, Date.now())[0];
    if (!target) return;
    setImmediate(() => {
      const started = performance.now();
      send(target, arm, kind, JSON.stringify({ ...body, model: arm.deployment.upstreamModel, stream: false }), { inflight: null, gone: false }, `${reqId}-shadow`)
        .then(async (up) => {
          const text = (await up.body()).toString('utf8');
          let usage: Usage | null = null;
          try {
            usage = usageOf(JSON.parse(text));
          } catch {
            /* discarded anyway */
          }
          const p = arm.deployment.pricing;
          const u = usage ?? { input: 0, output: 0 };
          if (up.statusCode < 400) upstreams.succeeded(target.id);
          else if (up.statusCode >= 500) upstreams.failed(target.id, Date.now());
          meter.record({
            at: new Date().toISOString(), keyId: key?.id ?? null, namespace: key?.namespace ?? route.namespace, model: route.model, version: target.version,
            deployment: arm.deployment.id, environment: route.environment, endpoint: kind, status: up.statusCode, stream: false, shadow: true, cached: false,
            latencyMs: performance.now() - started, ttftMs: null, inputTokens: u.input, outputTokens: u.output,
            costUsd: p ? (u.input * p.inputPerMTok + u.output * p.outputPerMTok) / 1e6 : 0,
            upstreamErrors: up.statusCode >= 500 ? 1 : 0,
          });
        })
        .catch(() => {
          upstreams.failed(target.id, Date.now());
          // A shadow that could not answer is metered too: its failures are what a shadow rollout compares.
          meter.record({
            at: new Date().toISOString(), keyId: key?.id ?? null, namespace: key?.namespace ?? route.namespace, model: route.model, version: target.version,
            deployment: arm.deployment.id, environment: route.environment, endpoint: kind, status: 502, stream: false, shadow: true, cached: false,
            latencyMs: performance.now() - started, ttftMs: null, inputTokens: 0, outputTokens: 0, costUsd: 0, upstreamErrors: 1,
          });
        })
        .catch(() => upstreams.failed(target.id, Date.now()));
    });
  }

  return {
    /** Serves one gateway request; never throws. */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      try {
        await handle(req, res);
      } catch (err) {
        if (err instanceof GatewayError) sendError(res, err);
        else {
          log.error({ err }, 'gateway: request failed');
          sendError(res, new GatewayError(500, 'server_error', 'internal_error', 'The gateway failed on this request; it has been logged.'));
        }
      }
    },
  };
}

/** A JSON answer re-framed as stream chunks (for a stream asked of an upstream that does not stream). */
function toChunks(answer: Record<string, unknown>, kind: Kind): unknown[] {
  const choices = (answer.choices as { index?: number; message?: { role?: string; content?: unknown }; text?: unknown; finish_reason?: unknown }[]) ?? [];
  const base = { id: answer.id ?? `chatcmpl-${randomUUID()}`, created: answer.created ?? Math.floor(Date.now() / 1000), model: answer.model };
  if (kind === 'chat') {
    return [
      { ...base, object: 'chat.completion.chunk', choices: choices.map((ch, i) => ({ index: ch.index ?? i, delta: { role: ch.message?.role ?? 'assistant', content: ch.message?.content ?? '' }, finish_reason: null })) },
      { ...base, object: 'chat.completion.chunk', choices: choices.map((ch, i) => ({ index: ch.index ?? i, delta: {}, finish_reason: ch.finish_reason ?? 'stop' })), ...(answer.usage ? { usage: answer.usage } : {}) },
    ];
  }
  return [{ ...base, object: 'text_completion', choices: choices.map((ch, i) => ({ index: ch.index ?? i, text: ch.text ?? '', finish_reason: ch.finish_reason ?? 'stop' })), ...(answer.usage ? { usage: answer.usage } : {}) }];
}
