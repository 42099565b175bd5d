/**
 * Readiness of a kubernetes deployment from its primary object's status, as pure functions:
 * a Deployment by `observedGeneration`, `updatedReplicas` and `readyReplicas` (and its
 * `ReplicaFailure` / `Progressing=ProgressDeadlineExceeded` conditions), an InferenceService by
 * its `Ready` condition (and KServe's model failure info).
 */
import type { K8sFlavour } from '../../../contracts/deployments.js';
import type { ObjectRef } from './k8s-client.js';

export interface Observed {
  /** Replicas wanted now (the autoscaler's current count when there is one). */
  desired: number;
  ready: number;
  /** Replicas running the newest template (the rest are the previous version's, during a rollout). */
  updated: number;
  state: 'ready' | 'starting' | 'degraded' | 'stopped';
  /** What the cluster says is wrong (an image that cannot be pulled, a quota, a model that failed to load). */
  reason: string | null;
}

type Condition = { type?: string; status?: string; reason?: string; message?: string };
type Obj = { metadata?: { generation?: number }; spec?: unknown; status?: unknown } | null;

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function observe(flavour: K8sFlavour, primary: Obj, want: { replicas: number; autoscaled: boolean }): Observed {
  const status = (primary?.status ?? {}) as Record<string, unknown>;
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as Condition[];
  if (flavour === 'kserve') {
    const desired = want.replicas;
    const ready = conditions.find((c) => c.type === 'Ready');
    const failure = (status.modelStatus as { lastFailureInfo?: { reason?: string; message?: string } } | undefined)?.lastFailureInfo;
    if (desired === 0) return { desired, ready: 0, updated: 0, state: 'stopped', reason: null };
    if (ready?.status === 'True') return { desired, ready: desired, updated: desired, state: 'ready', reason: null };
    const reason = failure ? [failure.reason, failure.message].filter(Boolean).join(': ') : null;
    return { desired, ready: 0, updated: 0, state: reason ? 'degraded' : 'starting', reason };
  }
  const spec = (primary?.spec ?? {}) as { replicas?: number };
  const desired = want.autoscaled ? Math.max(num(status.replicas), 1) : (spec.replicas ?? want.replicas);
  const generation = primary?.metadata?.generation ?? 0;
  const observed = num(status.observedGeneration) >= generation;
  const ready = Math.min(num(status.readyReplicas), desired);
  const updated = observed ? Math.min(num(status.updatedReplicas), desired) : 0;
  const failure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const stuck = conditions.find((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  const reason = failure?.message ?? stuck?.message ?? null;
  if (desired === 0) return { desired, ready: 0, updated: 0, state: 'stopped', reason: null };
  if (observed && updated === desired && ready === desired && num(status.replicas) <= desired) return { desired, ready, updated, state: 'ready', reason: null };
  // A rollout under way (old replicas serving until the new ones are ready) is starting, as on the local driver.
  if (reason) return { desired, ready, updated, state: 'degraded', reason };
  if (updated < desired || num(status.replicas) > desired) return { desired, ready, updated, state: 'starting', reason: null };
  return { desired, ready, updated, state: ready > 0 ? 'degraded' : 'starting', reason: null };
}

/** Every object a deployment of this flavour may own (for deletion: an absent one is fine). */
export function ownedRefs(flavour: K8sFlavour, namespace: string, name: string): ObjectRef[] {
  const at = (apiVersion: string, kind: string): ObjectRef => ({ apiVersion, kind, namespace, name });
  if (flavour === 'kserve') return [at('serving.kserve.io/v1beta1', 'InferenceService')];
  return [
    ...(flavour === 'inference-pool' ? [at('inference.networking.k8s.io/v1', 'InferencePool')] : []),
    at('autoscaling/v2', 'HorizontalPodAutoscaler'),
    at('v1', 'Service'),
    at('apps/v1', 'Deployment'),
  ];
}
