/**
 * Endpoints of monitoring: time series and drift of a model (`asset:read` on its namespace),
 * feedback on a request the gateway answered (`asset:write`; the request's model decides the
 * namespace, checked once it is found), and service-level objectives (`asset:write` to set).
 */
import { namespaceOf } from './asset-names.js';
import { endpoint } from './endpoint.js';
import {
  DriftQuery,
  DriftResponse,
  FeedbackBody,
  FeedbackResponse,
  FeedbackSummary,
  FeedbackSummaryQuery,
  ListSlosQuery,
  MetricsQuery,
  MetricsResponse,
  SloBody,
  SloList,
  SloParams,
  SloResponse,
} from './monitoring.js';

const tags = ['monitoring'];
const ofModel = (model: unknown): (string | null)[] => [typeof model === 'string' ? namespaceOf(model) : null];

export const monitoringEndpoints = {
  metrics: endpoint({
    method: 'GET', url: '/api/v1/metrics', summary: "A model's traffic over time from the rollups: requests, errors by class, latency and TTFT percentiles, tokens, cost", tags,
    permission: 'asset:read', scope: ({ query }) => ofModel(query.model), query: MetricsQuery, responses: { 200: MetricsResponse },
  }),
  drift: endpoint({
    method: 'GET', url: '/api/v1/drift', summary: 'Population stability index of input length, output length and refusal rate: a recent window against a baseline', tags,
    permission: 'asset:read', scope: ({ query }) => ofModel(query.model), query: DriftQuery, responses: { 200: DriftResponse },
  }),
  createFeedback: endpoint({
    method: 'POST', url: '/api/v1/feedback', summary: 'Feedback on a request the gateway answered (by its x-request-id): thumbs, a score in [0, 1], a comment', tags,
    permission: 'asset:write', scope: 'any', body: FeedbackBody, responses: { 201: FeedbackResponse },
  }),
  feedbackSummary: endpoint({
    method: 'GET', url: '/api/v1/feedback/summary', summary: "Feedback on a model's requests, per version", tags,
    permission: 'asset:read', scope: ({ query }) => ofModel(query.model), query: FeedbackSummaryQuery, responses: { 200: FeedbackSummary },
  }),
  listSlos: endpoint({
    method: 'GET', url: '/api/v1/slos', summary: 'Service-level objectives with their SLI, error budget and burn-rate alerts', tags,
    permission: 'asset:read', scope: 'filter', query: ListSlosQuery, responses: { 200: SloList },
  }),
  getSlo: endpoint({
    method: 'GET', url: '/api/v1/slos/:model/:env', summary: "A model's objectives in an environment, with their SLI, error budget and burn rates", tags,
    permission: 'asset:read', scope: ({ params }) => ofModel(params.model), params: SloParams, responses: { 200: SloResponse },
  }),
  putSlo: endpoint({
    method: 'PUT', url: '/api/v1/slos/:model/:env', summary: "Set a model's availability and latency objectives in an environment", tags,
    permission: 'asset:write', scope: ({ params }) => ofModel(params.model), params: SloParams, body: SloBody, responses: { 200: SloResponse },
  }),
  deleteSlo: endpoint({
    method: 'DELETE', url: '/api/v1/slos/:model/:env', summary: "Remove a model's objectives in an environment (its alerts resolve)", tags,
    permission: 'asset:write', scope: ({ params }) => ofModel(params.model), params: SloParams, responses: { 204: null },
  }),
};
