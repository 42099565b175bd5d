/**
 * The typed HTTP client of the Steward API, shared by the CLI, the web UI and users.
 * It runs wherever `fetch` does (Node ≥ 20, browsers) and imports nothing but the contracts.
 * Every failed call throws a `StewardApiError` carrying the API's error code and details.
 * Byte uploads can go through an injected `UploadTransport` (sdk/node's streams file ranges with
 * node:http); URLs, headers and error decoding stay here either way.
 */
import type { z } from 'zod';
import type {
  AliasHistory,
  AliasList,
  AliasResponse,
  AssetKind,
  AssetPage,
  AssetResponse,
  CompareResponse,
  CreateAssetBody,
  CreateVersionBody,
  CreateVersionResponse,
  ListAssetsQuery,
  ListVersionsQuery,
  UpdateAssetBody,
  UpdateVersionBody,
  VersionPage,
  VersionResponse,
} from '../contracts/assets.js';
import { ASSET_COLLECTION } from '../contracts/asset-names.js';
import type { CreatedTokenResponse, CreateTokenBody, TokenList, TokenResponse, WhoAmI } from '../contracts/auth.js';
import type { AuditPage, AuditVerifyResponse, ListAuditQuery } from '../contracts/audit.js';
import type { ErrorCode } from '../contracts/errors.js';
import type { BlobResponse, GcResponse, UploadSessionResponse } from '../contracts/uploads.js';

export class StewardApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network',
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'StewardApiError';
  }
}

export interface ClientOptions {
  url: string;
  token?: string | undefined;
  /** A fetch implementation (e.g. undici's, for throughput); the global one by default. */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * Sends the byte uploads (`putBlob`, `appendUpload`) instead of `fetch`. The Node transport (sdk/node) sends file
   * ranges through node:http from reused buffers: fetch turns a streamed body into a byte web
   * stream and copies every chunk, which cost the CLI seconds of GC and ~700 MB of RSS per 2 GB.
   */
  uploadTransport?: UploadTransport;
}

/** A request body: bytes, or a stream of them (sent with duplex: 'half'). */
export type BodyBytes = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** A byte upload as handed to an `UploadTransport`: everything but the body is ready to send. */
export interface UploadRequest {
  method: 'PUT' | 'PATCH';
  url: string;
  /** Authorization, content-type and content-length included. */
  headers: Record<string, string>;
  /** The body exactly as the caller passed it; a transport may recognise its own body types. */
  body: BodyBytes;
}

/** The transport's answer: status and the whole (small, JSON) response body as text. */
export interface UploadResponse {
  status: number;
  statusText: string;
  text: string;
}

/** Sends one byte upload; rejects only when no HTTP answer arrived (the client maps that to `network`). */
export type UploadTransport = (req: UploadRequest) => Promise<UploadResponse>;

type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;
type Query = Record<string, string | number | boolean | string[] | undefined>;

const enc = encodeURIComponent;

export class StewardClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly doFetch: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly uploadTransport: UploadTransport | undefined;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = opts.headers ?? {};
    this.uploadTransport = opts.uploadTransport;
  }

  // ---- transport -------------------------------------------------------------------------

  private authHeaders(): Record<string, string> {
    return this.token ? { ...this.headers, authorization: `Bearer ${this.token}` } : { ...this.headers };
  }

  /** Sends a request and returns the raw response, throwing StewardApiError for any error status. */
  async raw(method: string, path: string, init: { query?: Query; json?: unknown; body?: BodyBytes; headers?: Record<string, string>; okStatuses?: number[] } = {}): Promise<Response> {
    const qs = init.query ? toQuery(init.query) : '';
    const headers: Record<string, string> = { ...this.authHeaders(), ...init.headers };
    let body: BodyInit | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let stop = () => undefined as void;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      const iterable = !(init.body instanceof Uint8Array) && Symbol.asyncIterator in init.body && !(init.body instanceof ReadableStream);
      if (iterable) ({ body, stop } = stoppable(init.body as AsyncIterable<Uint8Array>));
      else body = init.body as BodyInit;
    }
    let res: Response;
    try {
      res = await this.doFetch(`${this.url}${path}${qs}`, { method, headers, body, ...(body && !(body instanceof Uint8Array) && typeof body !== 'string' ? { duplex: 'half' } : {}) } as RequestInit);
    } catch (err) {
      throw this.networkError(err);
    } finally {
      // Once fetch settled, the body is either sent or moot: some fetch implementations keep
      // pulling a streamed body after the connection failed, reading the rest of it for nothing.
      stop();
    }
    if (res.ok || init.okStatuses?.includes(res.status)) return res;
    throw apiError(res.status, res.statusText, await res.text().catch(() => ''));
  }

  private networkError(err: unknown): StewardApiError {
    // fetch wraps the socket error in `cause`; a Node transport throws it directly.
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.cause?.code ?? e.code;
    const why = code === 'ECONNREFUSED' ? `nothing is listening at ${this.url}; start it with \`steward up\` or pass --url` : (e.cause?.message ?? e.message ?? String(err));
    return new StewardApiError(0, 'network', `cannot reach Steward at ${this.url}: ${why}`);
  }

  /** A byte upload: through the injected transport when there is one, else through fetch. */
  private async upload<T>(method: 'PUT' | 'PATCH', path: string, body: BodyBytes, headers: Record<string, string>): Promise<T> {
    if (!this.uploadTransport) return this.call<T>(method, path, { body, headers });
    let res: UploadResponse;
    try {
      res = await this.uploadTransport({ method, url: `${this.url}${path}`, headers: { ...this.authHeaders(), 'content-type': 'application/octet-stream', ...headers }, body });
    } catch (err) {
      throw this.networkError(err);
    }
    if (res.status < 200 || res.status > 299) throw apiError(res.status, res.statusText, res.text);
    return JSON.parse(res.text) as T;
  }

  private async call<T>(method: string, path: string, init: { query?: Query; json?: unknown; body?: BodyBytes; headers?: Record<string, string> } = {}): Promise<T> {
    const res = await this.raw(method, path, init);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  private assetPath(kind: AssetKind, name?: string): string {
    return `/api/v1/${ASSET_COLLECTION[kind]}${name === undefined ? '' : `/${enc(name)}`}`;
  }

  // ---- identity ----------------------------------------------------------------------------

  whoami = () => this.call<Out<typeof WhoAmI>>('GET', '/api/v1/whoami');
  createToken = (body: In<typeof CreateTokenBody>) => this.call<Out<typeof CreatedTokenResponse>>('POST', '/api/v1/tokens', { json: body });
  listTokens = () => this.call<Out<typeof TokenList>>('GET', '/api/v1/tokens');
  revokeToken = (id: string) => this.call<TokenResponse>('DELETE', `/api/v1/tokens/${enc(id)}`);

  // ---- assets ------------------------------------------------------------------------------

  createAsset = (kind: AssetKind, body: In<typeof CreateAssetBody>) => this.call<AssetResponse>('POST', this.assetPath(kind), { json: body });
  getAsset = (kind: AssetKind, name: string) => this.call<AssetResponse>('GET', this.assetPath(kind, name));
  updateAsset = (kind: AssetKind, name: string, body: In<typeof UpdateAssetBody>) => this.call<AssetResponse>('PATCH', this.assetPath(kind, name), { json: body });
  listAssets = (kind: AssetKind, query: Partial<In<typeof ListAssetsQuery>> = {}) =>
    this.call<Out<typeof AssetPage>>('GET', this.assetPath(kind), { query: query as Query });

  createVersion = (kind: AssetKind, name: string, body: In<typeof CreateVersionBody>) =>
    this.call<CreateVersionResponse>('POST', `${this.assetPath(kind, name)}/versions`, { json: body });
  getVersion = (kind: AssetKind, name: string, ref: string, opts: { files?: boolean } = {}) =>
    this.call<VersionResponse>('GET', `${this.assetPath(kind, name)}/versions/${enc(ref)}`, { query: { files: opts.files ?? true } });
  /** Versions of one asset, or of all (`name` = "-") with search filters. */
  listVersions = (kind: AssetKind, name: string, query: Partial<In<typeof ListVersionsQuery>> = {}) =>
    this.call<Out<typeof VersionPage>>('GET', `${this.assetPath(kind, name)}/versions`, { query: query as Query });
  updateVersion = (kind: AssetKind, name: string, ref: string, body: In<typeof UpdateVersionBody>) =>
    this.call<VersionResponse>('PATCH', `${this.assetPath(kind, name)}/versions/${enc(ref)}`, { json: body });
  finalizeVersion = (kind: AssetKind, name: string, version: string) =>
    this.call<VersionResponse>('POST', `${this.assetPath(kind, name)}/versions/${enc(version)}/finalize`);
  compare = (kind: AssetKind, name: string, ref: string, other: string) =>
    this.call<CompareResponse>('GET', `${this.assetPath(kind, name)}/versions/${enc(ref)}/compare`, { query: { other } });
  /** A file of a version as a streaming response; `range` asks for bytes from `start` on. */
  downloadFile = (kind: AssetKind, name: string, ref: string, path: string, opts: { start?: number; ifRange?: string } = {}) =>
    this.raw('GET', `${this.assetPath(kind, name)}/versions/${enc(ref)}/files/${path.split('/').map(enc).join('/')}`, {
      headers: opts.start ? { range: `bytes=${opts.start}-`, ...(opts.ifRange ? { 'if-range': opts.ifRange } : {}) } : {},
    });

  setAlias = (kind: AssetKind, name: string, alias: string, version: string) =>
    this.call<AliasResponse>('PUT', `${this.assetPath(kind, name)}/aliases/${enc(alias)}`, { json: { version } });
  getAlias = (kind: AssetKind, name: string, alias: string) => this.call<AliasResponse>('GET', `${this.assetPath(kind, name)}/aliases/${enc(alias)}`);
  deleteAlias = (kind: AssetKind, name: string, alias: string) => this.call<void>('DELETE', `${this.assetPath(kind, name)}/aliases/${enc(alias)}`);
  listAliases = (kind: AssetKind, name: string) => this.call<Out<typeof AliasList>>('GET', `${this.assetPath(kind, name)}/aliases`);
  aliasHistory = (kind: AssetKind, name: string, alias?: string) =>
    this.call<Out<typeof AliasHistory>>('GET', `${this.assetPath(kind, name)}/alias-history`, { query: { alias } });

  // ---- blobs -------------------------------------------------------------------------------

  async blobExists(sha256: string): Promise<boolean> {
    const res = await this.raw('HEAD', `/api/v1/blobs/${sha256}`, { okStatuses: [404] });
    return res.status === 200;
  }
  putBlob = (sha256: string, body: BodyBytes, size: number) => this.upload<BlobResponse>('PUT', `/api/v1/blobs/${sha256}`, body, { 'content-length': String(size) });
  createUpload = (sha256: string, size: number) => this.call<UploadSessionResponse>('POST', `/api/v1/blobs/${sha256}/uploads`, { json: { size } });
  getUpload = (id: string) => this.call<UploadSessionResponse>('GET', `/api/v1/uploads/${enc(id)}`);
  appendUpload = (id: string, offset: number, body: BodyBytes, length: number) =>
    this.upload<UploadSessionResponse>('PATCH', `/api/v1/uploads/${enc(id)}`, body, { 'upload-offset': String(offset), 'content-length': String(length) });
  /** A session whose sha256 is declared at completion: for bytes hashed as they are sent. A 409 (`details.sizeStored`) asks to hash first. */
  createUndeclaredUpload = (size: number) => this.call<UploadSessionResponse>('POST', '/api/v1/uploads', { json: { size } });
  /** `sha256` is required for a session started without one, and checked against the session's otherwise. */
  completeUpload = (id: string, sha256?: string) =>
    this.call<BlobResponse>('POST', `/api/v1/uploads/${enc(id)}/complete`, sha256 ? { json: { sha256 } } : {});
  abortUpload = (id: string) => this.call<void>('DELETE', `/api/v1/uploads/${enc(id)}`);
  gc = (dryRun: boolean) => this.call<GcResponse>('POST', '/api/v1/gc', { json: { dryRun } });

  // ---- audit -------------------------------------------------------------------------------

  listAudit = (query: Partial<In<typeof ListAuditQuery>> = {}) => this.call<Out<typeof AuditPage>>('GET', '/api/v1/audit', { query: query as Query });
  verifyAudit = () => this.call<AuditVerifyResponse>('POST', '/api/v1/audit/verify');

  // ---- system ------------------------------------------------------------------------------

  health = () => this.call<{ status: string; version: string }>('GET', '/healthz');
}

function toQuery(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** An async iterable that ends early once `stop` is called: fetch gets no further chunk from it. */
function stoppable(source: AsyncIterable<Uint8Array>): { body: BodyInit; stop: () => void } {
  let stopped = false;
  const body = (async function* () {
    for await (const chunk of source) {
      if (stopped) return;
      yield chunk;
    }
  })();
  return {
    body: body as unknown as BodyInit,
    stop: () => {
      stopped = true;
    },
  };
}

/** Decodes an error answer: the API's envelope when there is one, else a generic error by status. */
export function apiError(status: number, statusText: string, text: string): StewardApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: ErrorCode; message?: string; details?: Record<string, unknown>; requestId?: string } };
    if (body.error?.code) return new StewardApiError(status, body.error.code, body.error.message ?? statusText, body.error.details ?? {}, body.error.requestId);
  } catch {
    // not the API's envelope: a proxy or another server answered
  }
  return new StewardApiError(status, status >= 500 ? 'internal' : 'invalid_argument', `HTTP ${status} ${statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
