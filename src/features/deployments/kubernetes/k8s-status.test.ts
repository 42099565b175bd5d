/** Readiness read from a Deployment's or an InferenceService's status. */
import { describe, expect, it } from 'vitest';
import { observe, ownedRefs } from './k8s-status.js';

const dep = (generation: number, spec: { replicas?: number }, status: Record<string, unknown>) => ({ metadata: { generation }, spec, status });

describe('kubernetes readiness', () => {
  it('a Deployment is ready when the controller observed its generation and every replica is updated and ready', () => {
    expect(observe('deployment', dep(1, { replicas: 2 }, {}), { replicas: 2, autoscaled: false })).toMatchObject({ desired: 2, ready: 0, state: 'starting' });
    expect(observe('deployment', dep(1, { replicas: 2 }, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2 }), { replicas: 2, autoscaled: false })).toMatchObject({ ready: 2, updated: 2, state: 'ready' });
    // A new template not yet observed, old replicas still ready: a rollout, starting.
    expect(observe('deployment', dep(2, { replicas: 2 }, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2 }), { replicas: 2, autoscaled: false })).toMatchObject({ updated: 0, state: 'starting' });
    // Surge: three pods for two wanted while the old one terminates.
    expect(observe('deployment', dep(2, { replicas: 2 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 2 }), { replicas: 2, autoscaled: false }).state).toBe('starting');
    expect(observe('deployment', dep(1, { replicas: 2 }, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1 }), { replicas: 2, autoscaled: false })).toMatchObject({ ready: 1, state: 'degraded' });
  });

  it('the controller’s failure conditions are the reason of a degraded deployment; 0 replicas is stopped; an autoscaler sets the count', () => {
    const stuck = observe('deployment', dep(1, { replicas: 1 }, { observedGeneration: 1, replicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "bot-7d" has timed out progressing.' }] }), { replicas: 1, autoscaled: false });
    expect(stuck).toMatchObject({ state: 'degraded', reason: 'ReplicaSet "bot-7d" has timed out progressing.' });
    const quota = observe('deployment', dep(1, { replicas: 1 }, { observedGeneration: 1, conditions: [{ type: 'ReplicaFailure', status: 'True', message: 'exceeded quota: gpu' }] }), { replicas: 1, autoscaled: false });
    expect(quota).toMatchObject({ state: 'degraded', reason: 'exceeded quota: gpu' });
    expect(observe('deployment', dep(1, { replicas: 0 }, { observedGeneration: 1 }), { replicas: 0, autoscaled: false }).state).toBe('stopped');
    expect(observe('deployment', dep(1, {}, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3 }), { replicas: 1, autoscaled: true })).toMatchObject({ desired: 3, state: 'ready' });
  });

  it('an InferenceService is ready by its Ready condition; a model that failed to load degrades it with KServe’s reason', () => {
    expect(observe('kserve', { status: {} }, { replicas: 1, autoscaled: false }).state).toBe('starting');
    expect(observe('kserve', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { replicas: 2, autoscaled: false })).toMatchObject({ ready: 2, state: 'ready' });
    const failed = observe('kserve', { status: { conditions: [{ type: 'Ready', status: 'False' }], modelStatus: { lastFailureInfo: { reason: 'ModelLoadFailed', message: 'no config.json' } } } }, { replicas: 1, autoscaled: false });
    expect(failed).toMatchObject({ state: 'degraded', reason: 'ModelLoadFailed: no config.json' });
  });

  it('owned objects per flavour, for deletion', () => {
    expect(ownedRefs('kserve', 'ns', 'n').map((r) => r.kind)).toEqual(['InferenceService']);
    expect(ownedRefs('inference-pool', 'ns', 'n').map((r) => r.kind)).toEqual(['InferencePool', 'HorizontalPodAutoscaler', 'Service', 'Deployment']);
  });
});
