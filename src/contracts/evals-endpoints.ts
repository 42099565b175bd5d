/**
 * Endpoints of evaluations under `/api/v1/evals`. Starting, cancelling, resuming and deleting a
 * run change state (`asset:write`); everything else reads (`asset:read`). Runs are scoped by the
 * namespaces of their model and suite: a run outside the caller's namespaces is a 404.
 */
import { z } from 'zod';
import { namespaceOfRef } from './asset-names.js';
import { endpoint } from './endpoint.js';
import {
  CaseResultPage,
  CompareRunsQuery,
  CompareRunsResponse,
  CreateRunBody,
  EvaluateGatesBody,
  GateEvaluation,
  ListResultsQuery,
  ListRunsQuery,
  MetricList,
  ResumeRunBody,
  RunPage,
  RunResponse,
} from './evals.js';

/** Suites the gates of a raw body name (each must be in a granted namespace too). */
const gateSuites = (gates: unknown): unknown[] =>
  Array.isArray(gates) ? gates.flatMap((g: unknown) => (g && typeof g === 'object' && 'suite' in g && g.suite !== undefined ? [g.suite] : [])) : [];

const RunParams = z.object({ id: z.string().min(1).max(64) }).strict();
const base = '/api/v1/evals';
const tags = ['evals'];

export const evalsEndpoints = {
  listMetrics: endpoint({
    method: 'GET', url: `${base}/metrics`, summary: 'The metrics library: names, directions, units and parameters', tags,
    permission: 'asset:read', scope: 'any', responses: { 200: MetricList },
  }),
  createRun: endpoint({
    method: 'POST', url: `${base}/runs`, summary: "Start an evaluation run of a model version's endpoint against a suite", tags,
    permission: 'asset:write', scope: ({ body }) => [namespaceOfRef(body.model), namespaceOfRef(body.suite)], body: CreateRunBody, responses: { 201: RunResponse },
  }),
  listRuns: endpoint({
    method: 'GET', url: `${base}/runs`, summary: 'List evaluation runs, newest first (filter by model, suite, state)', tags,
    permission: 'asset:read', scope: 'filter', query: ListRunsQuery, responses: { 200: RunPage },
  }),
  getRun: endpoint({
    method: 'GET', url: `${base}/runs/:id`, summary: 'An evaluation run: progress, aggregate metrics with confidence intervals, thresholds', tags,
    permission: 'asset:read', scope: 'filter', params: RunParams, responses: { 200: RunResponse },
  }),
  listResults: endpoint({
    method: 'GET', url: `${base}/runs/:id/results`, summary: 'Per-case results of a run (failed=true: failed requests and binary metrics that scored 0)', tags,
    permission: 'asset:read', scope: 'filter', params: RunParams, query: ListResultsQuery, responses: { 200: CaseResultPage },
  }),
  cancelRun: endpoint({
    method: 'POST', url: `${base}/runs/:id/cancel`, summary: 'Cancel a queued or running run (finished cases are kept)', tags,
    permission: 'asset:write', scope: 'filter', params: RunParams, responses: { 200: RunResponse },
  }),
  resumeRun: endpoint({
    method: 'POST', url: `${base}/runs/:id/resume`, summary: 'Resume a cancelled, interrupted or failed run: answered cases are not re-run', tags,
    permission: 'asset:write', scope: 'filter', params: RunParams, body: ResumeRunBody, responses: { 200: RunResponse },
  }),
  deleteRun: endpoint({
    method: 'DELETE', url: `${base}/runs/:id`, summary: 'Delete a finished, cancelled or interrupted run with its results (a queued or running one is refused: cancel it first); answers the run as it was', tags,
    permission: 'asset:write', scope: 'filter', params: RunParams, responses: { 200: RunResponse },
  }),
  compareRuns: endpoint({
    method: 'GET', url: `${base}/compare`, summary: 'Compare run b against run a: per-metric deltas with paired-bootstrap intervals, and the cases that flipped', tags,
    permission: 'asset:read', scope: 'filter', query: CompareRunsQuery, responses: { 200: CompareRunsResponse },
  }),
  evaluateGates: endpoint({
    method: 'POST', url: `${base}/gates/evaluate`, summary: 'Evaluate gates (metric thresholds, no regression against an environment) for a model version, with evidence', tags,
    permission: 'asset:read', scope: ({ body }) => [namespaceOfRef(body.model), ...gateSuites(body.gates).map(namespaceOfRef)], body: EvaluateGatesBody, responses: { 200: GateEvaluation },
  }),
};
