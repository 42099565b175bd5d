/**
 * A thin client of the Kubernetes API for the kubernetes driver, over @kubernetes/client-node's
 * generic `KubernetesObjectApi`: server-side apply (PATCH `application/apply-patch+yaml`, field
 * manager `steward`, forced: Steward owns the fields it renders), read, delete. Errors become
 * `KubeError`s carrying the HTTP status (null when the API server was not reached) and the API
 * server's own message, so a deployment's error says what is missing (a CRD not installed, a
 * permission not granted).
 */
import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { K8sObject } from './k8s-manifests.js';

export const FIELD_MANAGER = 'steward';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export class KubeError extends Error {
  constructor(
    message: string,
    /** HTTP status from the API server; null: not reached (connection refused, DNS, TLS). */
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'KubeError';
  }
  /** Worth retrying: the server was not reached, or answered 5xx / 429 / 409. */
  get transient(): boolean {
    return this.status === null || this.status >= 500 || this.status === 429 || this.status === 409;
  }
}

export interface KubeApi {
  /** Where requests go (for messages). */
  readonly server: string;
  apply(o: K8sObject): Promise<KubernetesObject>;
  /** The object, or null when it does not exist. */
  read(ref: ObjectRef): Promise<(KubernetesObject & { status?: unknown; spec?: unknown }) | null>;
  /** Deletes the object; absent already is fine. */
  remove(ref: ObjectRef): Promise<void>;
}

/** The kubeconfig: a file (STEWARD_KUBECONFIG), else the default loading (KUBECONFIG, ~/.kube/config, in-cluster). */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

const what = (r: { apiVersion: string; kind: string; namespace?: string | undefined; name?: string | undefined }) => `${r.kind} ${r.namespace ?? ''}/${r.name ?? ''} (${r.apiVersion})`;

function statusMessage(body: unknown): string | null {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 500) || null;
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return null;
}

/** Any failure of a call, as a KubeError naming the object, the server and the cause. */
export function toKubeError(err: unknown, r: { apiVersion: string; kind: string; namespace?: string; name?: string }, server: string): KubeError {
  if (err instanceof KubeError) return err;
  if (err instanceof ApiException) {
    const code = Number(err.code);
    const msg = statusMessage(err.body) ?? `HTTP ${code}`;
    // Discovery of the group failed: the API (a CRD) is not installed.
    if (code === 404 && /Failed to fetch resource metadata/.test(err.message)) {
      return new KubeError(`the cluster does not serve ${r.apiVersion} ${r.kind} (404 from ${server}): install its CRDs${r.apiVersion.startsWith('serving.kserve.io') ? ' (KServe)' : r.apiVersion.startsWith('inference.networking') ? ' (the Gateway API Inference Extension)' : ''} or use another flavour`, 404);
    }
    if (code === 401) return new KubeError(`the Kubernetes API server ${server} refused the credentials (401): check the kubeconfig's user`, 401);
    if (code === 403) return new KubeError(`forbidden to change ${what(r)} (403): ${msg}`, 403);
    return new KubeError(`${what(r)}: ${msg} (HTTP ${code})`, code);
  }
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  const text = e?.message ?? String(err);
  // client-node's own refusal: the group is served but not this kind.
  if (/Unrecognized API version and kind/.test(text)) return new KubeError(`the cluster does not serve ${r.apiVersion} ${r.kind} (404 from ${server}): install its CRDs or use another flavour`, 404);
  const cause = e?.cause?.code ?? e?.code ?? e?.cause?.message ?? '';
  const detail = [text.replace(/^Failed to fetch resource metadata for [^:]*: /, ''), cause].filter(Boolean).join(': ');
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|socket hang up|fetch failed|network/i.test(`${text} ${cause}`)) {
    return new KubeError(`the Kubernetes API server ${server} is unreachable: ${detail}`, null);
  }
  return new KubeError(`calling the Kubernetes API server ${server} failed: ${detail}`, null);
}

export function createKubeClient(kc: KubeConfig): KubeApi {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const server = kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
  const header = (r: ObjectRef) => ({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } });
  return {
    server,
    async apply(o) {
      try {
        return await api.patch(o as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      } catch (err) {
        throw toKubeError(err, { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }, server);
      }
    },
    async read(r) {
      try {
        return await api.read(header(r));
      } catch (err) {
        if (err instanceof ApiException && Number(err.code) === 404 && !/Failed to fetch resource metadata/.test(err.message)) return null;
        throw toKubeError(err, r, server);
      }
    },
    async remove(r) {
      try {
        await api.delete(header(r), undefined, undefined, undefined, undefined, 'Background');
      } catch (err) {
        if (err instanceof ApiException && Number(err.code) === 404) return;
        const k = toKubeError(err, r, server);
        if (k.status === 404) return; // the API itself is gone: so is the object
        throw k;
      }
    },
  };
}
