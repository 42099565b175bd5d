/**
 * Calls a declared endpoint (contracts/endpoint.ts): the path is filled from `params` (each
 * value URL-encoded; the trailing `*` keeps its slashes), the query from `query` (arrays repeat
 * their key), the body sent as JSON. The answer is typed by the endpoint's 2xx schema; it is not
 * parsed with zod here, so a client that never validates does not load it.
 */
import type { CallInput, CallOutput, Endpoint } from '../contracts/endpoint.js';

export type QueryValue = string | number | boolean | readonly string[] | undefined | null;

/** How the client sends one JSON request and reads the answer (errors already thrown). */
export type SendJson = (method: string, path: string, init: { query?: Record<string, QueryValue>; json?: unknown }) => Promise<Response>;

export function endpointPath(url: string, params: Record<string, unknown> | undefined): string {
  const value = (k: string) => {
    const v = params?.[k];
    if (v === undefined || v === null || v === '') throw new Error(`${url}: path parameter ${k} is missing`);
    return String(v);
  };
  return url
    .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, k: string) => encodeURIComponent(value(k)))
    .replace(/\*$/, () => value('*').split('/').map(encodeURIComponent).join('/'));
}

export async function callEndpoint<E extends Endpoint>(send: SendJson, ep: E, input: CallInput<E>): Promise<CallOutput<E>> {
  const { params, query, body } = input as { params?: Record<string, unknown>; query?: Record<string, QueryValue>; body?: unknown };
  const res = await send(ep.method, endpointPath(ep.url, params), { ...(query ? { query } : {}), ...(body !== undefined ? { json: body } : {}) });
  if (res.status === 204 || ep.method === 'HEAD') return undefined as CallOutput<E>;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as CallOutput<E>;
}
