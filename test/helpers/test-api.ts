/**
 * A plain `fetch` client for API tests, and registry fixtures built through the public API
 * only. The SDK is deliberately not used: these tests check the wire format itself, so a bug
 * shared by the SDK and the server cannot hide.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { z } from 'zod';
import {
  AssetResponse,
  CreateVersionResponse,
  VersionResponse,
  type CreateVersionBody,
  type ManifestFile,
} from '../../src/contracts/assets.js';
import { BlobResponse } from '../../src/contracts/uploads.js';
import { ErrorEnvelope } from '../../src/contracts/errors.js';
import type { Config } from '../../src/platform/config.js';
import { startTestServer, type Backend, type TestServer } from './test-server.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the server answered JSON, else the body as text. */
  body: unknown;
  bytes: Buffer;
}

export interface RequestOptions {
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as `application/octet-stream` unless `headers` says otherwise. */
  bytes?: Uint8Array | string;
  /** Sent verbatim as `application/json` (malformed bodies). */
  rawJson?: string;
  headers?: Record<string, string>;
  /** Bearer token; `null` sends no Authorization header. Defaults to the server's admin token. */
  token?: string | null;
}

/**
 * A real server of `backend` for the enclosing describe: started before its tests (then handed
 * to `ready` with an API client for it), stopped after them.
 */
export function serveSuite(backend: Backend, ready: (server: TestServer, api: Api) => void, overrides: Partial<Config> = {}): void {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(backend, overrides);
    ready(server, apiClient(server));
  });
  afterAll(async () => {
    await server?.stop();
  });
}

export function apiClient(server: { url: string; token: string }) {
  async function call(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? server.token : opts.token;
    if (token !== null && headers.authorization === undefined) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.rawJson !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = opts.rawJson;
    } else if (opts.bytes !== undefined) {
      headers['content-type'] ??= 'application/octet-stream';
      body = typeof opts.bytes === 'string' ? opts.bytes : Uint8Array.from(opts.bytes);
    }
    const res = await fetch(server.url + path, { method, headers, body });
    const bytes = Buffer.from(await res.arrayBuffer());
    const json = (res.headers.get('content-type') ?? '').includes('application/json') && bytes.length > 0;
    return { status: res.status, headers: res.headers, body: json ? (JSON.parse(bytes.toString('utf8')) as unknown) : bytes.toString('utf8'), bytes };
  }
  return {
    url: server.url,
    token: server.token,
    call,
    get: (path: string, opts?: RequestOptions) => call('GET', path, opts),
    head: (path: string, opts?: RequestOptions) => call('HEAD', path, opts),
    post: (path: string, json?: unknown, opts?: RequestOptions) => call('POST', path, { ...opts, json }),
    put: (path: string, json?: unknown, opts?: RequestOptions) => call('PUT', path, { ...opts, json }),
    patch: (path: string, json?: unknown, opts?: RequestOptions) => call('PATCH', path, { ...opts, json }),
    del: (path: string, opts?: RequestOptions) => call('DELETE', path, opts),
  };
}
export type Api = ReturnType<typeof apiClient>;

/** Short random text: every test names its own models with it, so tests sharing a server never collide. */
export const uid = (): string => randomBytes(4).toString('hex');
/** A name as it travels in a URL path: "ns/name" becomes "ns%2Fname". */
export const enc = (name: string): string => encodeURIComponent(name);
export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface TestBlob {
  bytes: Buffer;
  sha256: string;
  size: number;
}
export function blob(content: string | Buffer): TestBlob {
  const bytes = Buffer.from(content);
  return { bytes, sha256: sha256(bytes), size: bytes.length };
}
export const randomBlob = (size: number): TestBlob => blob(randomBytes(size));

export function manifest(files: Record<string, TestBlob>): ManifestFile[] {
  return Object.entries(files).map(([path, b]) => ({ path, size: b.size, sha256: b.sha256 }));
}

/** Asserts the status (showing the body when it differs) and parses the body with a contract schema. */
export function expectBody<T extends z.ZodType>(res: ApiResponse, status: number, schema: T): z.output<T> {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return schema.parse(res.body);
}

/** Asserts the contract's error envelope with this status and code; answers the error object. */
export function expectError(res: ApiResponse, status: number, code: ErrorEnvelope['error']['code']): ErrorEnvelope['error'] {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const { error } = ErrorEnvelope.parse(res.body);
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

export const modelPath = (name: string): string => `/api/v1/models/${enc(name)}`;
export const versionPath = (name: string, ref: string): string => `${modelPath(name)}/versions/${encodeURIComponent(ref)}`;

export async function createModel(api: Api, name: string, extra: { description?: string; labels?: Record<string, string> } = {}) {
  return expectBody(await api.post('/api/v1/models', { name, ...extra }), 201, AssetResponse);
}

export async function createVersion(api: Api, name: string, body: CreateVersionBody) {
  return expectBody(await api.post(`${modelPath(name)}/versions`, body), 201, CreateVersionResponse);
}

export async function putBlob(api: Api, b: TestBlob) {
  const res = await api.call('PUT', `/api/v1/blobs/${b.sha256}`, { bytes: b.bytes });
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  return BlobResponse.parse(res.body);
}

export async function finalize(api: Api, name: string, version: string) {
  return expectBody(await api.post(`${versionPath(name, version)}/finalize`), 200, VersionResponse);
}

/** The whole push: create the version, upload what the server says is missing, finalize. */
export async function pushVersion(
  api: Api,
  name: string,
  version: string,
  files: Record<string, TestBlob>,
  extra: Omit<CreateVersionBody, 'version' | 'files'> = {},
) {
  const created = await createVersion(api, name, { version, files: manifest(files), ...extra });
  const byHash = new Map(Object.values(files).map((b) => [b.sha256, b]));
  for (const sha of created.missing) await putBlob(api, byHash.get(sha)!);
  const ready = await finalize(api, name, version);
  expect(ready.state).toBe('ready');
  return ready;
}
