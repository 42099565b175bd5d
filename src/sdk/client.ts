/**
 * The typed HTTP client of the Steward API, shared by the CLI, the web UI and users.
 * It runs wherever `fetch` does (Node ≥ 20, browsers) and imports nothing but the contracts.
 * Every failed call throws a `StewardApiError` carrying the API's error code and details.
 * Byte uploads can go through an injected `UploadTransport` (sdk/node's streams file ranges with
 * node:http); URLs, headers and error decoding stay here either way.
 */
import type { z } from 'zod';
import type { AssetEndpoints } from '../contracts/assets-endpoints.js';
import type { AssetKind, CreateAssetBody, CreateVersionBody, ListAssetsQuery, ListVersionsQuery, UpdateAssetBody, UpdateVersionBody } from '../contracts/assets.js';
import { ASSET_COLLECTION } from '../contracts/asset-names.js';
import type { ListAuditQuery } from '../contracts/audit.js';
import type { CallInput, CallOutput, Endpoint, Permission } from '../contracts/endpoint.js';
import type { EndpointTable } from '../contracts/endpoints.js';
import type { ErrorCode } from '../contracts/errors.js';
import type { BlobResponse, UploadSessionResponse } from '../contracts/uploads.js';
import { ENDPOINT_ROUTES } from '../contracts/endpoint-routes.js';
import { callEndpoint, endpointPath } from './endpoint-call.js';

/** Method and path of each endpoint, read where the declarations would be (their types are the declarations'). */
const ROUTES = ENDPOINT_ROUTES as unknown as EndpointTable;

/**
 * The permission an endpoint needs (`client.can`-style checks in a UI): read from the same table
 * as its method and path. `endpointPermission((t) => t.promotions.approvePromotion)`.
 */
export function endpointPermission(pick: (t: EndpointTable) => Endpoint): Permission {
  return pick(ROUTES).permission;
}

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

  // ---- any endpoint ---------------------------------------------------------------------------

  /**
   * Calls a declared endpoint, typed by its declaration in contracts:
   * `client.api((t) => t.models.getVersion)({ params: { name, version } })`. Types come from the
   * declarations; at run time only their methods and paths are read (contracts/endpoint-routes.ts,
   * generated from them), so a CLI command does not load zod and every contract to build a URL.
   */
  api<E extends Endpoint>(pick: (t: EndpointTable) => E): (input: CallInput<E>) => Promise<CallOutput<E>> {
    const route = pick(ROUTES);
    return (input) => callEndpoint((method, path, init) => this.raw(method, path, init as { query?: Query; json?: unknown }), route, input);
  }

  private static collection = (kind: AssetKind) => (t: EndpointTable) => t[ASSET_COLLECTION[kind] as 'models' | 'datasets' | 'prompts'];

  // ---- identity ----------------------------------------------------------------------------

  whoami = () => this.api((t) => t.auth.whoami)({});
  createToken = (body: CallInput<EndpointTable['auth']['createToken']>['body']) => this.api((t) => t.auth.createToken)({ body });
  listTokens = () => this.api((t) => t.auth.listTokens)({});
  revokeToken = (id: string) => this.api((t) => t.auth.revokeToken)({ params: { id } });

  // ---- assets ------------------------------------------------------------------------------

  private assets<K extends keyof AssetEndpoints>(kind: AssetKind, key: K, input: CallInput<AssetEndpoints[K]>): Promise<CallOutput<AssetEndpoints[K]>> {
    const of = StewardClient.collection(kind);
    return this.api((t) => of(t)[key] as AssetEndpoints[K])(input);
  }
  createAsset = (kind: AssetKind, body: In<typeof CreateAssetBody>) => this.assets(kind, 'createAsset', { body });
  getAsset = (kind: AssetKind, name: string) => this.assets(kind, 'getAsset', { params: { name } });
  updateAsset = (kind: AssetKind, name: string, body: In<typeof UpdateAssetBody>) => this.assets(kind, 'updateAsset', { params: { name }, body });
  listAssets = (kind: AssetKind, query: Partial<In<typeof ListAssetsQuery>> = {}) => this.assets(kind, 'listAssets', { query });
  createVersion = (kind: AssetKind, name: string, body: In<typeof CreateVersionBody>) => this.assets(kind, 'createVersion', { params: { name }, body });
  getVersion = (kind: AssetKind, name: string, ref: string, opts: { files?: boolean } = {}) =>
    this.assets(kind, 'getVersion', { params: { name, version: ref }, query: { files: opts.files === false ? 'false' : 'true' } });
  /** Versions of one asset, or of all (`name` = "-") with search filters. */
  listVersions = (kind: AssetKind, name: string, query: Partial<In<typeof ListVersionsQuery>> = {}) => this.assets(kind, 'listVersions', { params: { name }, query });
  updateVersion = (kind: AssetKind, name: string, ref: string, body: In<typeof UpdateVersionBody>) =>
    this.assets(kind, 'updateVersion', { params: { name, version: ref }, body });
  finalizeVersion = (kind: AssetKind, name: string, version: string) => this.assets(kind, 'finalizeVersion', { params: { name, version } });
  /** Deletes a version by number; a 409 `conflict` names what depends on it (`details.blockers`). */
  deleteVersion = (kind: AssetKind, name: string, version: string) => this.assets(kind, 'deleteVersion', { params: { name, version } });
  /** Deletes an asset with all its versions; refused (409) if any of them must stay. */
  deleteAsset = (kind: AssetKind, name: string) => this.assets(kind, 'deleteAsset', { params: { name } });
  compare = (kind: AssetKind, name: string, ref: string, other: string) => this.assets(kind, 'compareVersions', { params: { name, version: ref }, query: { other } });
  /** A file of a version as a streaming response; `range` asks for bytes from `start` on. */
  downloadFile = (kind: AssetKind, name: string, ref: string, path: string, opts: { start?: number; ifRange?: string } = {}) =>
    this.raw('GET', this.pathOf((t) => StewardClient.collection(kind)(t).downloadFile, { name, version: ref, '*': path }), {
      headers: opts.start ? { range: `bytes=${opts.start}-`, ...(opts.ifRange ? { 'if-range': opts.ifRange } : {}) } : {},
    });

  setAlias = (kind: AssetKind, name: string, alias: string, version: string) => this.assets(kind, 'setAlias', { params: { name, alias }, body: { version } });
  getAlias = (kind: AssetKind, name: string, alias: string) => this.assets(kind, 'getAlias', { params: { name, alias } });
  deleteAlias = (kind: AssetKind, name: string, alias: string) => this.assets(kind, 'deleteAlias', { params: { name, alias } });
  listAliases = (kind: AssetKind, name: string) => this.assets(kind, 'listAliases', { params: { name } });
  aliasHistory = (kind: AssetKind, name: string, alias?: string) => this.assets(kind, 'aliasHistory', { params: { name }, query: alias ? { alias } : {} });

  // ---- blobs -------------------------------------------------------------------------------

  private pathOf(pick: (t: EndpointTable) => Endpoint, params: Record<string, string>): string {
    return endpointPath(pick(ROUTES).url, params);
  }

  async blobExists(sha256: string): Promise<boolean> {
    const res = await this.raw('HEAD', this.pathOf((t) => t.uploads.getBlob, { sha256 }), { okStatuses: [404] });
    return res.status === 200;
  }
  putBlob = async (sha256: string, body: BodyBytes, size: number) =>
    this.upload<BlobResponse>('PUT', this.pathOf((t) => t.uploads.putBlob, { sha256 }), body, { 'content-length': String(size) });
  createUpload = (sha256: string, size: number) => this.api((t) => t.uploads.createUpload)({ params: { sha256 }, body: { size } });
  getUpload = (id: string) => this.api((t) => t.uploads.getUpload)({ params: { id } });
  appendUpload = async (id: string, offset: number, body: BodyBytes, length: number) =>
    this.upload<UploadSessionResponse>('PATCH', this.pathOf((t) => t.uploads.appendUpload, { id }), body, { 'upload-offset': String(offset), 'content-length': String(length) });
  /** A session whose sha256 is declared at completion: for bytes hashed as they are sent. A 409 (`details.sizeStored`) asks to hash first. */
  createUndeclaredUpload = (size: number) => this.api((t) => t.uploads.createUndeclaredUpload)({ body: { size } });
  /** `sha256` is required for a session started without one, and checked against the session's otherwise. */
  completeUpload = (id: string, sha256?: string) => this.api((t) => t.uploads.completeUpload)({ params: { id }, body: sha256 ? { sha256 } : {} });
  abortUpload = (id: string) => this.api((t) => t.uploads.abortUpload)({ params: { id } });
  gc = (dryRun: boolean) => this.api((t) => t.uploads.collectGarbage)({ body: { dryRun } });

  // ---- audit -------------------------------------------------------------------------------

  listAudit = (query: Partial<In<typeof ListAuditQuery>> = {}) => this.api((t) => t.audit.listAudit)({ query });
  verifyAudit = () => this.api((t) => t.audit.verifyAudit)({});

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
