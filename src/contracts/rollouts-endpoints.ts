/**
 * Endpoints of rollouts under `/api/v1/rollouts`. Starting one and acting on it (pause, resume,
 * promote, abort) write like a promotion to the environment does (`asset:write` on the model's
 * namespace); reading is `asset:read`. A rollout outside a limited token's namespaces is a 404.
 */
import { namespaceOfRef } from './asset-names.js';
import { endpoint } from './endpoint.js';
import { ListRolloutsQuery, RolloutActionBody, RolloutDetail, RolloutPage, RolloutParams, RolloutResponse, StartRolloutBody } from './rollouts.js';

const base = '/api/v1/rollouts';
const tags = ['rollouts'];

export const rolloutsEndpoints = {
  startRollout: endpoint({
    method: 'POST', url: base, summary: "Start moving an environment from its stable version to a candidate (canary, blue-green, ab, shadow); the environment policy's rollout, with the request's fields over it", tags,
    permission: 'asset:write', scope: ({ body }) => [namespaceOfRef(body.model)], body: StartRolloutBody, responses: { 201: RolloutResponse },
  }),
  listRollouts: endpoint({
    method: 'GET', url: base, summary: 'Rollouts, newest first (filter by model, environment, state)', tags,
    permission: 'asset:read', scope: 'filter', query: ListRolloutsQuery, responses: { 200: RolloutPage },
  }),
  getRollout: endpoint({
    method: 'GET', url: `${base}/:id`, summary: 'A rollout: its steps, the current one, the last analysis with its evidence, the report, and its timeline', tags,
    permission: 'asset:read', scope: 'filter', params: RolloutParams, responses: { 200: RolloutDetail },
  }),
  pauseRollout: endpoint({
    method: 'POST', url: `${base}/:id/pause`, summary: 'Hold the rollout at its current step (traffic stays as it is)', tags,
    permission: 'asset:write', scope: 'filter', params: RolloutParams, body: RolloutActionBody, responses: { 200: RolloutResponse },
  }),
  resumeRollout: endpoint({
    method: 'POST', url: `${base}/:id/resume`, summary: 'Go on from a pause: the current step is held and analysed again from now', tags,
    permission: 'asset:write', scope: 'filter', params: RolloutParams, body: RolloutActionBody, responses: { 200: RolloutResponse },
  }),
  promoteRollout: endpoint({
    method: 'POST', url: `${base}/:id/promote`, summary: 'Skip the remaining steps: the candidate takes all the traffic and the environment points at it', tags,
    permission: 'asset:write', scope: 'filter', params: RolloutParams, body: RolloutActionBody, responses: { 200: RolloutResponse },
  }),
  abortRollout: endpoint({
    method: 'POST', url: `${base}/:id/abort`, summary: 'Return all traffic to the stable version at once and end the rollout (its promotion fails)', tags,
    permission: 'asset:write', scope: 'filter', params: RolloutParams, body: RolloutActionBody, responses: { 200: RolloutResponse },
  }),
};
