/**
 * The one error the OpenAI-compatible client throws for an upstream that did not answer well,
 * and the rule that classifies it: transient (worth retrying: connection errors, timeouts,
 * 408/409/425/429/5xx, an error event mid-stream, a stream cut before any content) or final
 * (any other 4xx, an answer that is not the protocol). Messages name the upstream's origin and
 * quote its own error message; they never contain the request's headers, so never the API key.
 */

/** `status`: an HTTP error status; `timeout`: the per-request timer; `transport`: below HTTP; `protocol`: an answer that is not the protocol; `stream`: an error event mid-stream or a stream cut before content; `internal`: thrown by the caller's own code. */
export type OpenAIErrorKind = 'status' | 'timeout' | 'transport' | 'protocol' | 'stream' | 'internal';

export class OpenAIError extends Error {
  readonly kind: OpenAIErrorKind;
  readonly transient: boolean;
  /** The HTTP status when the upstream answered with one (`status`), else null. */
  readonly status: number | null;
  /** The upstream's own error message (error.message of its JSON, or a snippet of its text). */
  readonly upstreamMessage: string | null;
  /** What the upstream's `Retry-After` asks for, in milliseconds (capped), when it sent one. */
  readonly retryAfterMs: number | null;

  constructor(
    message: string,
    opts: { kind: OpenAIErrorKind; transient: boolean; status?: number | null; upstreamMessage?: string | null; retryAfterMs?: number | null; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OpenAIError';
    this.kind = opts.kind;
    this.transient = opts.transient;
    this.status = opts.status ?? null;
    this.upstreamMessage = opts.upstreamMessage ?? null;
    this.retryAfterMs = opts.retryAfterMs ?? null;
  }
}

export const TRANSIENT_STATUS: ReadonlySet<number> = new Set([408, 409, 425, 429, 500, 502, 503, 504]);
/** A server asking for longer than this is capped: a retry loop must not stall a minute-long run forever. */
const MAX_RETRY_AFTER_MS = 60_000;
const SNIPPET = 200;

export function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > SNIPPET ? `${t.slice(0, SNIPPET)}…` : t;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** The message in an upstream's error body (OpenAI `{error: {message}}`, `{error: "…"}`, `{message}`, `{detail}`), else a snippet of the text. */
export function upstreamMessageOf(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown } | null;
    if (typeof j?.error === 'string') return j.error;
    if (j?.error && typeof j.error.message === 'string') return j.error.message;
    if (typeof j?.message === 'string') return j.message;
    if (typeof j?.detail === 'string') return j.detail;
  } catch {
    // not JSON: show the text itself
  }
  return snippet(text);
}

export function statusError(origin: string, status: number, body: string, retryAfter: string | string[] | undefined): OpenAIError {
  const upstreamMessage = upstreamMessageOf(body);
  return new OpenAIError(`${origin} answered ${status}: ${upstreamMessage}`, {
    kind: 'status',
    transient: TRANSIENT_STATUS.has(status),
    status,
    upstreamMessage,
    retryAfterMs: retryAfterMs(retryAfter),
  });
}

export function protocolError(message: string): OpenAIError {
  return new OpenAIError(message, { kind: 'protocol', transient: false });
}

/** A failure below HTTP (or our own timer) as an OpenAIError; every one of them is transient. */
export function transportError(err: unknown, origin: string, timeout: { ms: number; label: string }): OpenAIError {
  if (err instanceof OpenAIError) return err;
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  const make = (message: string, kind: OpenAIErrorKind = 'transport') => new OpenAIError(message, { kind, transient: true, cause: err });
  if (e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return make(`no complete answer from ${origin} within ${timeout.ms} ms (${timeout.label})`, 'timeout');
  }
  if (code === 'ECONNREFUSED') return make(`connection refused by ${origin}: is the endpoint running and the URL right?`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return make(`cannot resolve the host of ${origin}`);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return make(`${origin} closed the connection before answering`);
  return make(`request to ${origin} failed: ${e.cause?.message ?? e.message ?? String(err)}`);
}
