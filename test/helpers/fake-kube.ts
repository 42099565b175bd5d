/**
 * A fake Kubernetes API server (node:http) speaking enough of the real protocol for
 * @kubernetes/client-node: discovery (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`
 * resource lists), server-side apply (PATCH `application/apply-patch+yaml` with a `fieldManager`:
 * creates or updates, bumps `metadata.generation` when the spec changes, records the manager in
 * `managedFields`), GET, DELETE, `Status` errors, 404 for a group it does not serve (a CRD not
 * installed), 401 without the bearer token. Tests set objects' status and can take it down.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';

interface Res {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}
const CORE: Res[] = [
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true },
];
export const KSERVE: Res = { group: 'serving.kserve.io', version: 'v1beta1', plural: 'inferenceservices', kind: 'InferenceService', namespaced: true };
export const INFERENCE_POOL: Res = { group: 'inference.networking.k8s.io', version: 'v1', plural: 'inferencepools', kind: 'InferencePool', namespaced: true };

export type Obj = { apiVersion: string; kind: string; metadata: Record<string, unknown> & { name: string; namespace?: string; generation?: number }; spec?: unknown; status?: Record<string, unknown> };

export interface FakeKube {
  url: string;
  token: string;
  /** Requests seen: method, path, content type, field manager. */
  requests: { method: string; path: string; contentType: string | undefined; fieldManager: string | null; force: string | null }[];
  get(kind: string, namespace: string, name: string): Obj | undefined;
  objects(): Obj[];
  setStatus(kind: string, namespace: string, name: string, status: Record<string, unknown>): void;
  /** Answer every write with this status (403 to test RBAC), or null to stop. */
  failWrites(status: number | null, message?: string): void;
  /** Stop listening (the API server is down) / listen again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** A kubeconfig for it (YAML). */
  kubeconfig(): string;
  close(): Promise<void>;
}

const key = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

export async function startFakeKube(opts: { crds?: Res[] } = {}): Promise<FakeKube> {
  const served = [...CORE, ...(opts.crds ?? [])];
  const token = `fake-${randomUUID()}`;
  const store = new Map<string, Obj>();
  const requests: FakeKube['requests'] = [];
  let writeFailure: { status: number; message: string } | null = null;
  let rv = 1;

  const send = (res: http.ServerResponse, code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  function discovery(path: string): unknown | undefined {
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path === '/apis') {
      const groups = [...new Set(served.filter((r) => r.group).map((r) => r.group))];
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((g) => {
          const versions = [...new Set(served.filter((r) => r.group === g).map((r) => r.version))].map((v) => ({ groupVersion: `${g}/${v}`, version: v }));
          return { name: g, versions, preferredVersion: versions[0] };
        }),
      };
    }
    const m = /^\/api\/(v1)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(path);
    if (!m) return undefined;
    const gv = m[1]!;
    const list = served.filter((r) => (r.group ? `${r.group}/${r.version}` : r.version) === gv);
    if (!list.length) return null;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: list.map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
    };
  }

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method ?? '', path: u.pathname, contentType: req.headers['content-type'], fieldManager: u.searchParams.get('fieldManager'), force: u.searchParams.get('force') });
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const d = discovery(u.pathname);
    if (d !== undefined) return d === null ? send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource')) : send(res, 200, d);

    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(u.pathname);
    if (!m) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const [, core, group = '', gver, ns, plural, name] = m;
    const version = core ?? gver!;
    const r = served.find((x) => x.group === group && x.version === version && x.plural === plural);
    if (!r || !name) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const k = key(r.kind, ns!, name);
    const gr = `${plural}${group ? `.${group}` : ''}`;

    if (req.method === 'GET') {
      const o = store.get(k);
      return o ? send(res, 200, o) : send(res, 404, status(404, 'NotFound', `${gr} "${name}" not found`));
    }
    if (req.method === 'DELETE') {
      if (writeFailure) return send(res, writeFailure.status, status(writeFailure.status, 'Forbidden', writeFailure.message));
      const o = store.get(k);
      if (!o) return send(res, 404, status(404, 'NotFound', `${gr} "${name}" not found`));
      store.delete(k);
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group, kind: plural } });
    }
    if (req.method === 'PATCH') {
      if (req.headers['content-type'] !== 'application/apply-patch+yaml') return send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml`));
      const manager = u.searchParams.get('fieldManager');
      if (!manager) return send(res, 422, status(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'));
      if (writeFailure) return send(res, writeFailure.status, status(writeFailure.status, 'Forbidden', writeFailure.message));
      const obj = parse(body) as Obj;
      if (obj.kind !== r.kind || obj.metadata?.name !== name) return send(res, 400, status(400, 'BadRequest', 'the name or kind of the object does not match the URL'));
      const prev = store.get(k);
      const specChanged = !prev || JSON.stringify(prev.spec) !== JSON.stringify(obj.spec);
      const next: Obj = {
        ...obj,
        metadata: {
          ...obj.metadata,
          namespace: ns!,
          uid: (prev?.metadata.uid as string | undefined) ?? randomUUID(),
          resourceVersion: String(++rv),
          generation: (prev?.metadata.generation ?? 0) + (specChanged ? 1 : 0),
          creationTimestamp: (prev?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString(),
          managedFields: [{ manager, operation: 'Apply', apiVersion: obj.apiVersion, fieldsType: 'FieldsV1' }],
        },
        ...(prev?.status ? { status: prev.status } : {}),
      };
      store.set(k, next);
      return send(res, prev ? 200 : 201, next);
    }
    return send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not supported here`));
  };

  const sockets = new Set<import('node:net').Socket>();
  let server = http.createServer((req, res) => void handler(req, res));
  const track = (s: http.Server) => s.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  track(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let listening = true;

  const stop = async () => {
    if (!listening) return;
    listening = false;
    for (const c of sockets) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  return {
    url,
    token,
    requests,
    get: (kind, ns, name) => store.get(key(kind, ns, name)),
    objects: () => [...store.values()],
    setStatus(kind, ns, name, st) {
      const o = store.get(key(kind, ns, name));
      if (!o) throw new Error(`no ${kind} ${ns}/${name}`);
      o.status = st;
      o.metadata.resourceVersion = String(++rv);
    },
    failWrites(code, message = 'deployments.apps is forbidden: User "system:serviceaccount:steward:steward" cannot patch resource "deployments" in API group "apps"') {
      writeFailure = code === null ? null : { status: code, message };
    },
    down: stop,
    async up() {
      if (listening) return;
      server = http.createServer((req, res) => void handler(req, res));
      track(server);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      listening = true;
    },
    kubeconfig: () =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: fake`,
        `  cluster: {server: "${url}", insecure-skip-tls-verify: true}`,
        'users:',
        `- name: fake`,
        `  user: {token: "${token}"}`,
        'contexts:',
        '- name: fake',
        '  context: {cluster: fake, user: fake, namespace: default}',
        'current-context: fake',
        '',
      ].join('\n'),
    close: stop,
  };
}
