/**
 * Deployments: the desired state (a ready version, a runtime, replicas, stopped or not) is
 * recorded by the API; reconciliation, a `deployment.reconcile` job per deployment enqueued on
 * every change and every `deploymentReconcileMs`, makes the replicas match it: materialises the
 * version's files, starts missing replicas, probes them, restarts crashed ones with backoff, stops
 * extra ones. The job runner runs one reconciliation of a deployment at a time, on one replica of
 * the control plane; replica pids and ports are in the database, so a restarted control plane
 * adopts replicas that still serve instead of starting new ones.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { namespaceOf, parseAssetRef } from '../../contracts/asset-names.js';
import { KubernetesSpec, type CreateDeploymentBody, type DeploymentDryRun, type DeploymentResponse, type DeploymentState, type ListDeploymentsQuery, type ReplicaState } from '../../contracts/deployments.js';
import type { SnapshotDeployment } from '../../contracts/gateway.js';
import type { BlobStore } from '../../platform/blob/blob-store.js';
import { iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { Logger } from '../../platform/log.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AssetsFeature } from '../assets/assets-wiring.js';
import type { AuditService } from '../audit/audit-service.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import type { EventsService } from '../events/events-service.js';
import type { JobsService } from '../jobs/jobs-service.js';
import type { PromotionsService } from '../promotions/promotions-service.js';
import { findExecutable, freePort, isAlive, type LocalDriver } from './deployments-local.js';
import { materialise } from './deployments-materialise.js';
import type { DeploymentRow, DeploymentsRepo, ReplicaRow } from './deployments-repo.js';
import { KubeError, toKubeError, type KubeApi } from './kubernetes/k8s-client.js';
import { HASH_ANNOTATION, objectName, render, type Rendered } from './kubernetes/k8s-manifests.js';
import { observe, ownedRefs } from './kubernetes/k8s-status.js';
import { RUNTIME_ADAPTERS } from './runtimes/index.js';
import { fill, type RuntimeAdapter } from './runtimes/runtime.js';

export const DEPLOYMENT_RECONCILE_JOB = 'deployment.reconcile';
export const reconcileKey = (id: string) => `deployment.reconcile:${id}`;
const HOST = '127.0.0.1';
/** Slots of the new version's replicas during a rolling update: SURGE + the index they replace. */
const SURGE = 1000;

export interface DeploymentsSettings {
  cacheRoot: string;
  restartBaseMs: number;
  maxRestarts: number;
  stopGraceMs: number;
  /** Driver kubernetes: the image of the init container running `steward pull`. */
  kubernetesPullImage: string;
}

/** The stored spec: the request without `dryRun`. */
type Spec = Omit<CreateDeploymentBody, 'dryRun'>;

export function createDeploymentsService(deps: {
  /** The root handle: periodic reconciliations are enqueued outside any transaction. */
  db: AnyDb;
  repo: DeploymentsRepo;
  assets: Pick<AssetsFeature, 'getVersion'>;
  promotions: Pick<PromotionsService, 'getEnvironment'>;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  jobs: Pick<JobsService, 'enqueue' | 'poke'>;
  store: BlobStore;
  driver: LocalDriver;
  /** Driver kubernetes: the API client, made on first use (a bad kubeconfig is a deployment's error, not the server's). */
  kube: () => KubeApi;
  /** The blob store's bucket when it is S3 (KServe storage URIs). */
  s3: { bucket: string; prefix: string } | null;
  clock: Clock;
  log: Logger;
  settings: DeploymentsSettings;
}) {
  const { repo, driver, clock, settings } = deps;

  function adapterFor(spec: Spec): RuntimeAdapter {
    const a = RUNTIME_ADAPTERS[spec.runtime];
    if (!a) throw errors.precondition(`runtime ${spec.runtime} is not available in this build; use openai-compatible with the server's command line`, { runtime: spec.runtime });
    return a;
  }

  /** The executable a runtime needs, or a 412 naming what is missing and how to install it. */
  function requireInstalled(a: RuntimeAdapter, spec: Spec): void {
    if (a.name === 'builtin') return;
    const cmd = a.binary ?? spec.args[0];
    if (!cmd) throw errors.invalid(`runtime ${a.name} needs its command line in args: ${a.install}`);
    if (!findExecutable(cmd)) throw errors.precondition(`runtime ${a.name} needs ${cmd}, which is not installed on this host (not found on PATH): ${a.install}`, { runtime: a.name, missing: cmd });
  }

  function view(d: DeploymentRow, reps: readonly ReplicaRow[]): DeploymentResponse {
    const spec = JSON.parse(d.spec) as Spec;
    return {
      id: d.id,
      model: { name: d.model, version: d.version },
      environment: d.environment,
      runtime: d.runtime as DeploymentResponse['runtime'],
      driver: d.driver as DeploymentResponse['driver'],
      replicas: d.replicas,
      state: d.state as DeploymentState,
      error: d.error,
      replicaStatus: reps
        .filter((r) => r.deployment_id === d.id)
        .map((r) => ({ index: r.idx, state: r.state as ReplicaState, version: r.version, url: r.url, pid: r.pid, restarts: r.restarts, lastError: r.last_error, since: r.since })),
      args: spec.args,
      endpoint: spec.endpoint ? { url: spec.endpoint.url, auth: Boolean(spec.endpoint.apiKey), ...(spec.endpoint.model ? { model: spec.endpoint.model } : {}) } : null,
      pricing: spec.pricing ?? null,
      gpuHourUsd: spec.gpuHourUsd ?? null,
      envKeys: Object.keys(spec.env).sort(),
      kubernetes:
        spec.driver === 'kubernetes'
          ? { namespace: spec.kubernetes?.namespace ?? 'default', flavour: spec.kubernetes?.flavour ?? 'deployment', name: objectName(d.model, d.environment), autoscaling: spec.autoscaling ?? null }
          : null,
      createdAt: d.created_at,
      createdBy: d.created_by,
      updatedAt: d.updated_at,
    };
  }

  async function get(id: string, namespaces: readonly string[] | null): Promise<DeploymentRow> {
    const d = await repo.get(id);
    if (!d || (namespaces && (d.namespace === null || !namespaces.includes(d.namespace)))) {
      throw new AppError('not_found', `deployment ${JSON.stringify(id)} not found; list them with steward deployments ls`, { deployment: id });
    }
    return d;
  }

  async function show(id: string): Promise<DeploymentResponse> {
    const d = (await repo.get(id))!;
    return view(d, await repo.replicas([id]));
  }

  async function setState(d: DeploymentRow, to: DeploymentState, error: string | null): Promise<void> {
    if (d.state === to && d.error === error) return;
    await repo.transaction(async (r, trx) => {
      await r.update(d.id, { state: to, error, updated_at: iso(clock.now()) });
      const tx = trx as unknown as AnyDb;
      await deps.audit.record(tx, SYSTEM_ACTOR, { action: 'deployment.state', target: `deployment:${d.id}`, change: { from: d.state, to, ...(error ? { error: error.slice(0, 2000) } : {}) } });
      await deps.events.emit(tx, {
        type: 'deployment.state.changed',
        subject: `deployment:${d.id}`,
        namespace: d.namespace,
        data: { id: d.id, model: { name: d.model, version: d.version }, environment: d.environment, from: d.state as DeploymentState, to, error },
      });
    });
    d.state = to;
    d.error = error;
  }

  async function healthChanged(d: DeploymentRow, idx: number, healthy: boolean, reason: string | null): Promise<void> {
    await repo.transaction(async (_r, trx) => {
      await deps.events.emit(trx as unknown as AnyDb, { type: 'deployment.health.changed', subject: `deployment:${d.id}`, namespace: d.namespace, data: { id: d.id, replica: idx, healthy, reason } });
    });
  }

  const backoff = (restarts: number) => Math.min(60_000, settings.restartBaseMs * 2 ** Math.max(0, restarts - 1));

  async function startReplica(d: DeploymentRow, spec: Spec, a: RuntimeAdapter, idx: number, prev: ReplicaRow | undefined): Promise<void> {
    const v = await deps.assets.getVersion('model', d.model, d.version, { files: true });
    // (A rolling update starts the new version's replica beside the old one, at SURGE + idx.)
    const files = (v.files ?? []).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
    const { dir } = await materialise({ store: deps.store, cacheRoot: settings.cacheRoot, digest: v.digest, files });
    if (d.digest !== v.digest) await repo.update(d.id, { digest: v.digest });
    const port = await freePort(HOST);
    const ctx = { host: HOST, port, modelDir: dir, files: files.map((f) => f.path), model: d.model };
    const cmd = a.command({ ...ctx, args: spec.args.map((x) => fill(x, ctx)) });
    const pid = await driver.spawn(d.id, idx, { cmd: cmd.cmd, args: cmd.args, env: { ...spec.env, ...cmd.env } });
    const now = iso(clock.now());
    await repo.putReplica({
      deployment_id: d.id,
      idx,
      state: 'starting',
      pid,
      port,
      url: `http://${HOST}:${port}`,
      restarts: prev?.restarts ?? 0,
      failures: 0,
      last_error: prev?.last_error ?? null,
      version: d.version,
      started_at: now,
      since: now,
    });
  }

  /** Makes the replicas of `id` match its desired state, once; idempotent. True when the deployment is at rest (nothing more to watch). */
  /**
   * What gateways route to: the ready replicas (url, version) of each deployment, as last
   * announced. A pass that changes them (a replica ready or gone, a rolling update's swap, an
   * external endpoint relabelled with the version it now serves) emits
   * `deployment.replicas.changed`, so route tables follow within a pass.
   */
  const announced = new Map<string, string>();
  async function announceRouting(id: string): Promise<void> {
    const ready = (await repo.replicas([id])).filter((r) => r.state === 'ready' && r.url);
    const sig = ready.map((r) => `${r.idx}|${r.url}|${r.version}`).sort().join(',');
    const before = announced.get(id);
    if (before === sig) return;
    announced.set(id, sig);
    if (before === undefined && sig === '') return;
    const d = await repo.get(id);
    if (!d) return;
    await repo.transaction(async (_r, trx) => {
      await deps.events.emit(trx as unknown as AnyDb, {
        type: 'deployment.replicas.changed',
        subject: `deployment:${id}`,
        namespace: d.namespace,
        data: { id, ready: ready.length, versions: [...new Set(ready.map((r) => r.version ?? d.version))].sort() },
      });
    });
  }

  async function reconcile(id: string): Promise<boolean> {
    const atRest = await reconcileOnce(id);
    await announceRouting(id);
    return atRest;
  }

  async function reconcileOnce(id: string): Promise<boolean> {
    const d = await repo.get(id);
    if (!d) return true;
    const spec = JSON.parse(d.spec) as Spec;
    if (spec.driver === 'kubernetes') return reconcileKubernetes(d, spec);
    let reps = await repo.replicas([id]);
    const now = clock.now().getTime();

    if (d.stop_requested) {
      for (const r of reps) {
        if (r.pid && isAlive(r.pid)) await driver.stop(r.pid, settings.stopGraceMs);
        await repo.putReplica({ ...r, state: 'stopped', pid: null, since: iso(clock.now()) });
      }
      await setState(d, 'stopped', d.error);
      return true;
    }
    for (const r of reps.filter((x) => x.idx >= d.replicas && !(x.idx >= SURGE && x.idx - SURGE < d.replicas && x.version === d.version))) {
      if (r.pid && isAlive(r.pid)) await driver.stop(r.pid, settings.stopGraceMs);
      await repo.deleteReplica(id, r.idx);
    }

    if (spec.driver === 'external') return reconcileExternal(d, spec, reps.find((x) => x.idx === 0));
    const a = adapterFor(spec);
    // Rolling update (the environment moved): for each replica serving another version, start the
    // new version's replica beside it (slot SURGE + idx); once that one is ready, stop the old one
    // and put the new one in its place. Old replicas keep serving until their successor does.
    for (let idx = 0; idx < d.replicas; idx++) {
      const old = reps.find((x) => x.idx === idx);
      if (!old || old.version === d.version || !old.pid || !isAlive(old.pid)) continue;
      const surge = reps.find((x) => x.idx === SURGE + idx);
      if (!surge || surge.version !== d.version) {
        if (surge?.pid && isAlive(surge.pid)) await driver.stop(surge.pid, settings.stopGraceMs);
        try {
          await startReplica(d, spec, a, SURGE + idx, undefined);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          await setState(d, 'degraded', `rolling update to ${d.version} could not start: ${err.message}`);
          return false;
        }
        continue;
      }
      if (!surge.pid || !isAlive(surge.pid)) {
        await repo.deleteReplica(id, SURGE + idx); // crashed while starting: started again next pass
        continue;
      }
      const probe = await driver.probe(`${surge.url}${spec.readinessPath ?? a.readinessPath}`, spec.health.timeoutMs);
      if (!probe.ok) continue;
      await driver.stop(old.pid, settings.stopGraceMs);
      await repo.deleteReplica(id, SURGE + idx);
      await repo.putReplica({ ...surge, idx, state: 'ready', failures: 0, since: iso(clock.now()) });
    }
    reps = await repo.replicas([id]);
    // Old replicas still serving: the update goes on next pass (a dead one is restarted below, on the new version).
    if (reps.some((x) => x.idx < d.replicas && x.version !== d.version && x.pid && isAlive(x.pid))) {
      await setState(d, 'starting', null);
      return false;
    }
    const states: ReplicaState[] = [];
    let failure: string | null = null;
    for (let idx = 0; idx < d.replicas; idx++) {
      const r = reps.find((x) => x.idx === idx);
      if (r?.state === 'failed') {
        states.push('failed');
        failure ??= r.last_error;
        continue;
      }
      if (r?.pid && isAlive(r.pid)) {
        const probe = await driver.probe(`${r.url}${spec.readinessPath ?? a.readinessPath}`, spec.health.timeoutMs);
        if (probe.ok) {
          if (r.state !== 'ready') {
            await repo.putReplica({ ...r, state: 'ready', failures: 0, since: iso(clock.now()) });
            if (r.state === 'unhealthy') await healthChanged(d, idx, true, null);
          } else if (r.failures) await repo.putReplica({ ...r, failures: 0 });
          states.push('ready');
          continue;
        }
        if (r.state === 'starting') {
          if (now - Date.parse(r.started_at ?? r.since) > spec.health.startTimeoutMs) {
            await driver.stop(r.pid, settings.stopGraceMs);
            await repo.putReplica({ ...r, state: 'restarting', pid: null, restarts: r.restarts + 1, last_error: `not ready within ${spec.health.startTimeoutMs} ms: ${probe.reason}`, since: iso(clock.now()) });
            states.push('restarting');
          } else states.push('starting');
          continue;
        }
        const failures = r.failures + 1;
        const unhealthy = failures >= spec.health.failureThreshold;
        await repo.putReplica({ ...r, failures, state: unhealthy ? 'unhealthy' : r.state, last_error: probe.reason, ...(unhealthy && r.state !== 'unhealthy' ? { since: iso(clock.now()) } : {}) });
        if (unhealthy && r.state !== 'unhealthy') await healthChanged(d, idx, false, probe.reason);
        states.push(unhealthy ? 'unhealthy' : (r.state as ReplicaState));
        continue;
      }
      // No process (never started, crashed, or gone with the host): start it, after a backoff for a crash.
      let row = r;
      if (r?.pid) {
        const tail = await driver.tail(id, idx, 20);
        row = { ...r, pid: null, state: 'restarting', restarts: r.restarts + 1, last_error: `the process exited; its last lines:\n${tail.join('\n')}`, since: iso(clock.now()) };
        await repo.putReplica(row);
      }
      if (row && row.restarts > settings.maxRestarts) {
        await repo.putReplica({ ...row, state: 'failed' });
        states.push('failed');
        failure ??= row.last_error;
        continue;
      }
      if (row && row.state === 'restarting' && now - Date.parse(row.since) < backoff(row.restarts)) {
        states.push('restarting');
        continue;
      }
      try {
        await startReplica(d, spec, a, idx, row);
        states.push('starting');
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // Nothing to retry: the runtime is missing, or the version's files are not what they should be.
        await setState(d, 'failed', err.message);
        await repo.putReplica({ deployment_id: id, idx, state: 'failed', pid: null, port: null, url: null, restarts: row?.restarts ?? 0, failures: 0, last_error: err.message, version: d.version, started_at: null, since: iso(clock.now()) });
        for (const other of await repo.replicas([id])) if (other.pid && isAlive(other.pid)) await driver.stop(other.pid, settings.stopGraceMs);
        return true;
      }
    }
    const ready = states.filter((s) => s === 'ready').length;
    const next: DeploymentState =
      d.replicas === 0 ? 'stopped'
      : ready === d.replicas ? 'ready'
      : states.every((s) => s === 'failed') ? 'failed'
      : ready > 0 || states.some((s) => s === 'unhealthy') ? 'degraded'
      : 'starting';
    await setState(d, next, next === 'failed' || next === 'degraded' ? failure : null);
    return next === 'failed';
  }


  /** The manifests of a kubernetes deployment at its current version and replica count. */
  async function renderFor(d: Pick<DeploymentRow, 'id' | 'model' | 'version' | 'environment' | 'replicas'>, spec: Spec): Promise<Rendered> {
    const v = await deps.assets.getVersion('model', d.model, d.version, { files: true });
    const env = await deps.promotions.getEnvironment(d.environment, undefined);
    const input = {
      id: d.id,
      spec: { ...spec, replicas: d.replicas },
      environment: d.environment,
      version: { name: v.name, version: v.version, digest: v.digest, files: (v.files ?? []).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })) },
      nodeSelector: env.policy.deploy.nodeSelector,
      adapter: adapterFor(spec),
      s3: deps.s3,
      pullImage: settings.kubernetesPullImage,
    };
    try {
      return render(input);
    } catch (err) {
      // The spec cannot be rendered (no image, no weights file the runtime needs): the caller's error, not a transient one.
      throw errors.invalid(`the manifests could not be rendered: ${(err as Error).message}`);
    }
  }

  /**
   * Driver kubernetes: the cluster runs the replicas; this applies the rendered objects when they
   * changed or are missing (server-side apply: the same objects roll to a new version), reads the
   * primary object's status into one replica row per desired replica, and deletes the objects on
   * stop. An API server that cannot be reached leaves the deployment starting/degraded with the
   * error, retried next pass; a refusal (a CRD not installed, a permission missing) fails it.
   */
  async function reconcileKubernetes(d: DeploymentRow, spec: Spec): Promise<boolean> {
    const k8s = spec.kubernetes ?? KubernetesSpec.parse({});
    const name = objectName(d.model, d.environment);
    const reps = await repo.replicas([d.id]);
    const unavailable = async (err: KubeError): Promise<boolean> => {
      if (err.transient) {
        await setState(d, d.state === 'ready' || d.state === 'degraded' ? 'degraded' : d.stop_requested ? (d.state as DeploymentState) : 'starting', err.message);
        return false;
      }
      await setState(d, 'failed', err.message);
      for (const r of reps) await repo.putReplica({ ...r, state: 'failed', last_error: err.message, since: iso(clock.now()) });
      return true;
    };
    let api: KubeApi;
    try {
      api = deps.kube();
    } catch (err) {
      return unavailable(new KubeError(`the kubeconfig could not be loaded: ${(err as Error).message}`, null));
    }

    if (d.stop_requested) {
      try {
        for (const ref of ownedRefs(k8s.flavour, k8s.namespace, name)) await api.remove(ref);
      } catch (err) {
        return unavailable(toKubeError(err, { apiVersion: '', kind: 'objects', namespace: k8s.namespace, name }, api.server));
      }
      for (const r of reps) if (r.state !== 'stopped') await repo.putReplica({ ...r, state: 'stopped', since: iso(clock.now()) });
      await setState(d, 'stopped', null);
      return true;
    }

    let r: Rendered;
    try {
      r = await renderFor(d, spec);
    } catch (err) {
      // The version or environment is gone, or the spec cannot be rendered: nothing to retry (a database blip is retried by the job).
      if (!(err instanceof AppError)) throw err;
      await setState(d, 'failed', err.message);
      return true;
    }
    let primary: Awaited<ReturnType<KubeApi['read']>>;
    try {
      const applied: string[] = [];
      for (const o of r.objects) {
        const ref = { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name };
        const cur = await api.read(ref);
        if (cur && cur.metadata?.annotations?.[HASH_ANNOTATION] === r.hash) continue;
        await api.apply(o);
        applied.push(o.kind);
      }
      if (applied.length) {
        // An autoscaler no longer rendered (its bounds became equal) goes.
        if (r.flavour !== 'kserve' && !r.objects.some((o) => o.kind === 'HorizontalPodAutoscaler')) await api.remove({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace: r.namespace, name: r.name });
        await repo.transaction(async (_r, trx) => {
          await deps.audit.record(trx as unknown as AnyDb, SYSTEM_ACTOR, {
            action: 'deployment.apply',
            target: `deployment:${d.id}`,
            change: { server: api.server, namespace: r.namespace, name: r.name, objects: applied, version: d.version, hash: r.hash },
          });
        });
      }
      primary = await api.read({ ...r.primary, namespace: r.namespace, name: r.name });
    } catch (err) {
      return unavailable(toKubeError(err, { ...r.primary, namespace: r.namespace, name: r.name }, api.server));
    }
    const digest = r.objects[0]?.metadata.annotations['steward.dev/digest'];
    if (digest && digest !== d.digest) await repo.update(d.id, { digest });

    const seen = observe(r.flavour, primary, { replicas: d.replicas, autoscaled: r.autoscaling.min !== r.autoscaling.max });
    const now = iso(clock.now());
    for (let idx = 0; idx < seen.desired; idx++) {
      const prev = reps.find((x) => x.idx === idx);
      const state: ReplicaState = idx < seen.ready ? 'ready' : prev?.state === 'ready' || prev?.state === 'unhealthy' ? 'unhealthy' : 'starting';
      // During a rollout the first `updated` replicas run the new version; the others keep the one they had.
      const version = idx < seen.updated || !prev ? d.version : prev.version;
      const lastError = state === 'ready' ? (prev?.last_error ?? null) : (seen.reason ?? prev?.last_error ?? null);
      if (prev && prev.state === state && prev.version === version && prev.url === r.url && prev.last_error === lastError) continue;
      await repo.putReplica({ deployment_id: d.id, idx, state, pid: null, port: null, url: r.url, restarts: 0, failures: 0, last_error: lastError, version, started_at: prev?.started_at ?? now, since: prev?.state === state ? prev.since : now });
      if (prev?.state === 'ready' && state === 'unhealthy') await healthChanged(d, idx, false, seen.reason ?? 'the pod is not ready');
      if (prev?.state === 'unhealthy' && state === 'ready') await healthChanged(d, idx, true, null);
    }
    for (const x of reps.filter((x) => x.idx >= seen.desired)) await repo.deleteReplica(d.id, x.idx);
    await setState(d, seen.state, seen.state === 'degraded' ? seen.reason : null);
    return false;
  }

  /** An external endpoint: nothing to start or stop, only its health to watch (one "replica": the endpoint). */
  async function reconcileExternal(d: DeploymentRow, spec: Spec, r: ReplicaRow | undefined): Promise<boolean> {
    const ep = spec.endpoint!;
    const now = iso(clock.now());
    const row: ReplicaRow = r ?? { deployment_id: d.id, idx: 0, state: 'starting', pid: null, port: null, url: ep.url, restarts: 0, failures: 0, last_error: null, version: d.version, started_at: now, since: now };
    const probe = await driver.probe(`${ep.url.replace(/\/+$/, '')}${spec.readinessPath ?? '/models'}`, spec.health.timeoutMs, ep.apiKey);
    if (probe.ok) {
      if (row.state !== 'ready' || !r || row.version !== d.version) await repo.putReplica({ ...row, state: 'ready', failures: 0, version: d.version, since: now });
      if (row.state === 'unhealthy') await healthChanged(d, 0, true, null);
      await setState(d, 'ready', null);
      return false;
    }
    const failures = row.failures + 1;
    const unhealthy = failures >= spec.health.failureThreshold;
    const state = unhealthy ? 'unhealthy' : row.state === 'ready' ? 'ready' : 'starting';
    await repo.putReplica({ ...row, failures, state, last_error: probe.reason, ...(state !== row.state ? { since: now } : {}) });
    if (unhealthy && row.state !== 'unhealthy') await healthChanged(d, 0, false, probe.reason);
    await setState(d, unhealthy ? 'degraded' : state === 'ready' ? 'ready' : 'starting', unhealthy ? probe.reason : null);
    return false;
  }

  async function enqueue(tx: AnyDb, id: string): Promise<void> {
    await deps.jobs.enqueue(tx, { kind: DEPLOYMENT_RECONCILE_JOB, key: reconcileKey(id), payload: { id } });
  }

  const service = {
    reconcile,

    /** Every deployment that is not at rest, for the periodic pass (a stopped one scaled to 0 is watched too: it may scale up). */
    async active(): Promise<string[]> {
      return (await repo.active()).filter((d) => !(d.stop_requested && d.state === 'stopped')).map((d) => d.id);
    },

    async enqueueReconcile(ids: readonly string[]): Promise<void> {
      for (const id of ids) await enqueue(deps.db, id);
      if (ids.length) deps.jobs.poke();
    },

    async create(input: z.output<typeof CreateDeploymentBody>, actor: Actor): Promise<DeploymentResponse | DeploymentDryRun> {
      const { dryRun, ...rest } = input;
      // Driver kubernetes: its defaults written out, so the stored spec says where the objects are.
      const body: Spec = rest.driver === 'kubernetes' ? { ...rest, kubernetes: rest.kubernetes ?? KubernetesSpec.parse({}) } : rest;
      const ref = parseAssetRef(body.model.trim(), { requireRef: true });
      if (typeof ref === 'string') throw errors.invalid(`${ref}: name the version to deploy`);
      const v = await deps.assets.getVersion('model', ref.name, ref.ref!);
      const label = `${v.name}:${v.version}`;
      if (v.state === 'pending') throw errors.precondition(`${label} is still pending; finish its push before deploying it`, { state: v.state });
      if (v.state === 'archived') throw errors.precondition(`${label} is archived and cannot be deployed`, { state: v.state });
      const env = await deps.promotions.getEnvironment(body.environment, undefined);
      if (body.driver === 'local') requireInstalled(adapterFor(body), body);
      if (body.driver === 'kubernetes') {
        const a = adapterFor(body);
        if (!body.kubernetes?.image && !a.container.image) throw errors.invalid(`runtime ${a.name} has no container image: give the model server's image with kubernetes.image (--image)`, { runtime: a.name });
        if (a.name === 'openai-compatible' && !body.args.length) throw errors.invalid(`runtime openai-compatible needs its command line in args`);
        // One set of objects per model, environment and namespace: a second deployment would fight over them.
        const clash = (await repo.following(v.name, body.environment)).find((x) => {
          const other = JSON.parse(x.spec) as Spec;
          return other.driver === 'kubernetes' && (other.kubernetes?.namespace ?? 'default') === body.kubernetes!.namespace;
        });
        if (clash) throw errors.conflict(`deployment ${clash.id} already runs ${v.name} in ${body.environment} on kubernetes namespace ${body.kubernetes!.namespace} (objects ${objectName(v.name, body.environment)}); stop it first, or scale it`, { deployment: clash.id });
      }
      const replicas = body.driver === 'external' ? 1 : (body.replicas ?? body.autoscaling?.min ?? env.policy.deploy.replicas);
      if (dryRun) {
        const manifests = body.driver === 'kubernetes' ? (await renderFor({ id: 'dry-run', model: v.name, version: v.version, environment: body.environment, replicas }, { ...body, model: label })).objects : [];
        // Secrets stay out of a dry run as out of every response: env values and the endpoint key.
        const spec = { ...body, model: label, replicas, env: Object.fromEntries(Object.keys(body.env).map((k) => [k, '(hidden)'])), ...(body.endpoint ? { endpoint: { url: body.endpoint.url, auth: Boolean(body.endpoint.apiKey) } } : {}) };
        return { dryRun: true, spec, manifests: body.driver === 'kubernetes' ? manifests.map((m) => redactEnv(m)) : [] };
      }
      const now = iso(clock.now());
      const row: DeploymentRow = {
        id: `dep_${randomBytes(9).toString('base64url')}`,
        model: v.name,
        version: v.version,
        digest: v.digest,
        namespace: namespaceOf(v.name),
        environment: body.environment,
        runtime: body.runtime,
        driver: body.driver,
        replicas,
        spec: JSON.stringify({ ...body, replicas }),
        state: 'pending',
        stop_requested: 0,
        error: null,
        created_at: now,
        created_by: actor.name,
        updated_at: now,
      };
      await repo.transaction(async (r, trx) => {
        const tx = trx as unknown as AnyDb;
        await r.insert(row);
        // Values of env may be secrets: only their names are audited.
        await deps.audit.record(tx, actor, {
          action: 'deployment.create',
          target: `deployment:${row.id}`,
          change: {
            model: label,
            environment: row.environment,
            runtime: row.runtime,
            driver: row.driver,
            replicas,
            args: body.args,
            env: Object.keys(body.env),
            ...(body.endpoint ? { endpoint: body.endpoint.url, auth: Boolean(body.endpoint.apiKey) } : {}),
            ...(body.kubernetes ? { kubernetes: body.kubernetes, ...(body.autoscaling ? { autoscaling: body.autoscaling } : {}) } : {}),
            ...(body.pricing ? { pricing: body.pricing } : {}),
            ...(body.gpuHourUsd !== undefined ? { gpuHourUsd: body.gpuHourUsd } : {}),
          },
        });
        await deps.events.emit(tx, { type: 'deployment.state.changed', subject: `deployment:${row.id}`, namespace: row.namespace, data: { id: row.id, model: { name: v.name, version: v.version }, environment: row.environment, from: null, to: 'pending', error: null } });
        await enqueue(tx, row.id);
      });
      deps.jobs.poke();
      return show(row.id);
    },

    /**
     * The environment's pointer moved (`environment.moved`, in the event's transaction): its
     * deployments of the model move to the new version by a rolling update; a removal stops them.
     */
    async follow(tx: AnyDb, move: { model: string; environment: string; version: string | null; kind: string }): Promise<void> {
      // A rollout's move: the new version already runs in the rollout's own deployment, which has
      // taken the traffic; rolling the old deployment in place as well would replace it twice.
      if (move.kind === 'rollout') return;
      const r = repo.on(tx);
      for (const d of await r.following(move.model, move.environment)) {
        if (d.version === move.version) continue;
        const now = iso(clock.now());
        if (move.version === null) {
          await r.update(d.id, { stop_requested: 1, updated_at: now });
          await deps.audit.record(tx, SYSTEM_ACTOR, { action: 'deployment.stop', target: `deployment:${d.id}`, change: { reason: `${move.environment} runs no version of ${move.model} any more` } });
        } else {
          // (Its digest is recorded when its files are materialised: no read outside this transaction.)
          await r.update(d.id, { version: move.version, updated_at: now });
          await deps.audit.record(tx, SYSTEM_ACTOR, { action: 'deployment.update', target: `deployment:${d.id}`, change: { from: d.version, to: move.version, strategy: 'rolling', cause: move.kind } });
        }
        await enqueue(tx, d.id);
      }
    },

    /**
     * What the gateway routes to: deployments not at rest, each with its ready replicas as
     * targets (a local replica's OpenAI-compatible API under `/v1`; an external endpoint's URL as
     * given), the model name the runtime expects, the upstream key and prices.
     */
    async routable(): Promise<SnapshotDeployment[]> {
      const rows = await repo.routable();
      const reps = await repo.replicas(rows.map((d) => d.id));
      return rows.map((d) => {
        const spec = JSON.parse(d.spec) as Spec;
        const ready = reps.filter((r) => r.deployment_id === d.id && r.state === 'ready' && r.url && r.idx < SURGE);
        return {
          id: d.id,
          model: d.model,
          version: d.version,
          environment: d.environment,
          upstreamModel: spec.endpoint?.model ?? d.model,
          apiKey: spec.endpoint?.apiKey ?? null,
          pricing: spec.pricing ?? null,
          targets: ready.map((r) => ({
            baseUrl: spec.driver === 'external' ? spec.endpoint!.url : `${r.url!.replace(/\/+$/, '')}/v1`,
            replica: r.idx,
            version: r.version ?? d.version,
          })),
        };
      });
    },

    /**
     * Deployments billed by the GPU-hour that ran during [since, until): when each ran (from its
     * creation to its stop, the last update of a stopped or failed one) and its hourly price
     * (GPU-hour × GPUs per replica, at least one, × replicas). Per-token priced ones are left out:
     * their cost is metered per request.
     */
    async hourlyCosts(since: string, until: string, namespaces: readonly string[] | null) {
      const rows = await repo.ranBetween(since, until, namespaces);
      return rows.flatMap((d) => {
        const spec = JSON.parse(d.spec) as Spec;
        if (spec.gpuHourUsd === undefined || spec.pricing) return [];
        const ended = d.state === 'stopped' || d.state === 'failed';
        return [{ id: d.id, model: d.model, namespace: d.namespace, environment: d.environment, usdPerHour: spec.gpuHourUsd * Math.max(1, spec.resources.gpus) * d.replicas, from: d.created_at, to: ended ? d.updated_at : null }];
      });
    },

    async get(id: string, actor: Actor): Promise<DeploymentResponse> {
      await get(id, actor.namespaces);
      return show(id);
    },

    async list(q: z.output<typeof ListDeploymentsQuery>, actor: Actor) {
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.list({
        ...(q.model ? { model: q.model } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.state ? { state: q.state } : {}),
        namespaces: actor.namespaces,
        ...(after ? { after } : {}),
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const reps = await repo.replicas(items.map((d) => d.id));
      const last = items[items.length - 1];
      return { items: items.map((d) => view(d, reps)), nextCursor: rows.length > q.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    async stop(id: string, actor: Actor): Promise<DeploymentResponse> {
      const d = await get(id, actor.namespaces);
      if (d.stop_requested) throw errors.conflict(`deployment ${id} is ${d.state === 'stopped' ? 'stopped' : 'stopping'} already`, { state: d.state });
      await repo.transaction(async (r, trx) => {
        await r.update(id, { stop_requested: 1, updated_at: iso(clock.now()) });
        await deps.audit.record(trx as unknown as AnyDb, actor, { action: 'deployment.stop', target: `deployment:${id}`, change: { state: d.state } });
        await enqueue(trx as unknown as AnyDb, id);
      });
      deps.jobs.poke();
      return show(id);
    },

    /** Asks a deployment to stop in the caller's transaction (a rollout retiring its old or failed arm); false when it was stopping already. */
    async stopIn(tx: AnyDb, id: string, actor: Actor, reason: string): Promise<boolean> {
      const r = repo.on(tx);
      const d = await r.get(id);
      if (!d || d.stop_requested) return false;
      await r.update(id, { stop_requested: 1, updated_at: iso(clock.now()) });
      await deps.audit.record(tx, actor, { action: 'deployment.stop', target: `deployment:${id}`, change: { state: d.state, reason } });
      await enqueue(tx, id);
      return true;
    },

    /**
     * A new deployment of another version of the same model with the same spec (runtime, replicas,
     * args, env, pricing, health): a rollout's candidate. Only the local driver can be copied: an
     * external endpoint serves one fixed version, and Kubernetes objects are one set per model and
     * environment, so those candidates are deployed by the operator and named.
     */
    async cloneFor(id: string, version: string, actor: Actor): Promise<DeploymentResponse> {
      const d = await get(id, actor.namespaces);
      const spec = JSON.parse(d.spec) as Spec;
      if (spec.driver !== 'local') {
        throw errors.precondition(`deployment ${id} uses driver ${spec.driver}, whose candidate cannot be a copy; deploy ${d.model}:${version} yourself and name it (--candidate-deployment)`, { deployment: id, driver: spec.driver });
      }
      const out = await service.create({ ...spec, model: `${d.model}:${version}`, dryRun: false }, actor);
      return out as DeploymentResponse;
    },

    async scale(id: string, replicas: number, actor: Actor): Promise<DeploymentResponse> {
      const d = await get(id, actor.namespaces);
      if (d.stop_requested) throw errors.conflict(`deployment ${id} is stopped; deploy the version again`, { state: d.state });
      const spec = JSON.parse(d.spec) as Spec;
      if (spec.autoscaling && spec.autoscaling.min !== spec.autoscaling.max) {
        throw errors.precondition(`deployment ${id} is autoscaled between ${spec.autoscaling.min} and ${spec.autoscaling.max} replicas by its HorizontalPodAutoscaler; deploy again with other bounds`, { autoscaling: spec.autoscaling });
      }
      await repo.transaction(async (r, trx) => {
        await r.update(id, { replicas, updated_at: iso(clock.now()) });
        await deps.audit.record(trx as unknown as AnyDb, actor, { action: 'deployment.scale', target: `deployment:${id}`, change: { from: d.replicas, to: replicas } });
        await enqueue(trx as unknown as AnyDb, id);
      });
      deps.jobs.poke();
      return show(id);
    },

    async logs(id: string, replica: number, tail: number, actor: Actor) {
      await get(id, actor.namespaces);
      return { replica, lines: await driver.tail(id, replica, tail) };
    },
  };
  return service;
}

export type DeploymentsService = ReturnType<typeof createDeploymentsService>;

/** A rendered object with the values of plain `env` entries hidden (they may be secrets; secretKeyRefs stay). */
function redactEnv<T>(o: T): T {
  if (Array.isArray(o)) return o.map(redactEnv) as T;
  if (!o || typeof o !== 'object') return o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] = k === 'env' && Array.isArray(v) ? v.map((e: { name: string; value?: string }) => (e.value !== undefined ? { ...e, value: '(hidden)' } : e)) : redactEnv(v);
  }
  return out as T;
}
