/**
 * Endpoints of environments and promotions. Requesting a promotion writes (`asset:write`);
 * deciding on one needs `promotion:approve`; editing a policy is an admin's (`asset:admin`), a
 * namespace-limited admin editing only its team's override. Promotions of models outside a
 * limited token's namespaces are refused (403) when acted on and left out of listings.
 */
import { namespaceOfRef } from './asset-names.js';
import { endpoint } from './endpoint.js';
import {
  CreatePromotionBody,
  DecideBody,
  EnvironmentList,
  EnvironmentParams,
  EnvironmentPolicy,
  EnvironmentQuery,
  EnvironmentResponse,
  ListPromotionsQuery,
  PointerHistory,
  PointerHistoryQuery,
  PointerList,
  PointerMove,
  PointersQuery,
  PromotionPage,
  PromotionParams,
  PromotionResponse,
  RejectBody,
  RollbackBody,
} from './promotions.js';

const tags = ['promotions'];
const envs = '/api/v1/environments';
const promos = '/api/v1/promotions';

export const promotionsEndpoints = {
  listEnvironments: endpoint({
    method: 'GET', url: envs, summary: 'Environments and their policies (the global ones and your teams\' overrides), in pipeline order', tags,
    permission: 'asset:read', scope: 'filter', responses: { 200: EnvironmentList },
  }),
  getEnvironment: endpoint({
    method: 'GET', url: `${envs}/:env`, summary: "An environment's policy (?namespace=: the team's override, else the global one)", tags,
    permission: 'asset:read', scope: 'any', params: EnvironmentParams, query: EnvironmentQuery,
    responses: { 200: EnvironmentResponse },
  }),
  putEnvironment: endpoint({
    method: 'PUT', url: `${envs}/:env`, summary: "Create or replace an environment's policy (?namespace=: a team's override)", tags,
    permission: 'asset:admin', scope: ({ query }) => [query.namespace ?? null], params: EnvironmentParams, query: EnvironmentQuery, body: EnvironmentPolicy,
    responses: { 200: EnvironmentResponse },
  }),
  listPointers: endpoint({
    method: 'GET', url: '/api/v1/pointers', summary: 'Which version of a model each environment runs', tags,
    permission: 'asset:read', scope: ({ query }) => [query.model === undefined ? null : namespaceOfRef(query.model)], query: PointersQuery, responses: { 200: PointerList },
  }),
  pointerHistory: endpoint({
    method: 'GET', url: '/api/v1/pointers/history', summary: "Every move of a model's environment pointers, newest first (who, when, which promotion, what it replaced)", tags,
    permission: 'asset:read', scope: ({ query }) => [namespaceOfRef(query.model)], query: PointerHistoryQuery, responses: { 200: PointerHistory },
  }),
  rollback: endpoint({
    method: 'POST', url: `${envs}/:env/rollback`, summary: 'Move the environment back to the last known-good version (or a named earlier one), skipping gates', tags,
    permission: 'asset:write', scope: ({ body }) => [namespaceOfRef(body.model)], params: EnvironmentParams, body: RollbackBody, responses: { 200: PointerMove },
  }),
  createPromotion: endpoint({
    method: 'POST', url: promos, summary: 'Request a promotion: checks the version and every gate of the target policy, then completes or waits for approvals', tags,
    permission: 'asset:write', scope: ({ body }) => [namespaceOfRef(body.model)], body: CreatePromotionBody, responses: { 201: PromotionResponse },
  }),
  listPromotions: endpoint({
    method: 'GET', url: promos, summary: 'Promotion requests, newest first (filter by model, environment, state: pending is the approvals inbox)', tags,
    permission: 'asset:read', scope: 'filter', query: ListPromotionsQuery, responses: { 200: PromotionPage },
  }),
  getPromotion: endpoint({
    method: 'GET', url: `${promos}/:id`, summary: 'A promotion request: every gate with its evidence, the approvals', tags,
    permission: 'asset:read', scope: 'filter', params: PromotionParams, responses: { 200: PromotionResponse },
  }),
  approvePromotion: endpoint({
    method: 'POST', url: `${promos}/:id/approve`, summary: 'Approve a pending promotion (not your own; once per approver)', tags,
    permission: 'promotion:approve', scope: 'filter', params: PromotionParams, body: DecideBody, responses: { 200: PromotionResponse },
  }),
  rejectPromotion: endpoint({
    method: 'POST', url: `${promos}/:id/reject`, summary: 'Reject a pending promotion, saying why', tags,
    permission: 'promotion:approve', scope: 'filter', params: PromotionParams, body: RejectBody, responses: { 200: PromotionResponse },
  }),
  cancelPromotion: endpoint({
    method: 'POST', url: `${promos}/:id/cancel`, summary: 'Cancel a pending promotion (its requester or an admin)', tags,
    permission: 'asset:write', scope: 'filter', params: PromotionParams, responses: { 200: PromotionResponse },
  }),
};
