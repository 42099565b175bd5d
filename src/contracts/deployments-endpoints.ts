/**
 * Endpoints of deployments under `/api/v1/deployments`. Deploying, stopping and scaling change
 * state (`asset:write`); reading is `asset:read`. A deployment belongs to its model's namespace:
 * one outside a limited token's namespaces is a 404.
 */
import { namespaceOfRef } from './asset-names.js';
import {
  CreateDeploymentBody,
  DeploymentDryRun,
  DeploymentLogs,
  DeploymentPage,
  DeploymentParams,
  DeploymentResponse,
  ListDeploymentsQuery,
  LogsQuery,
  ScaleBody,
} from './deployments.js';
import { endpoint } from './endpoint.js';

const base = '/api/v1/deployments';
const tags = ['deployments'];

export const deploymentsEndpoints = {
  createDeployment: endpoint({
    method: 'POST', url: base, summary: 'Deploy a ready model version: materialise its files, start its replicas, probe them (dryRun: validate and render only, 200)', tags,
    permission: 'asset:write', scope: ({ body }) => [namespaceOfRef(body.model)], body: CreateDeploymentBody, responses: { 201: DeploymentResponse, 200: DeploymentDryRun },
  }),
  listDeployments: endpoint({
    method: 'GET', url: base, summary: 'Deployments, newest first (filter by model, environment, state)', tags,
    permission: 'asset:read', scope: 'filter', query: ListDeploymentsQuery, responses: { 200: DeploymentPage },
  }),
  getDeployment: endpoint({
    method: 'GET', url: `${base}/:id`, summary: 'A deployment: state, replicas, their health', tags,
    permission: 'asset:read', scope: 'filter', params: DeploymentParams, responses: { 200: DeploymentResponse },
  }),
  stopDeployment: endpoint({
    method: 'POST', url: `${base}/:id/stop`, summary: 'Stop every replica gracefully (SIGTERM, then SIGKILL after a grace period)', tags,
    permission: 'asset:write', scope: 'filter', params: DeploymentParams, responses: { 200: DeploymentResponse },
  }),
  scaleDeployment: endpoint({
    method: 'POST', url: `${base}/:id/scale`, summary: 'Set the number of replicas (0 keeps the deployment, serving nothing)', tags,
    permission: 'asset:write', scope: 'filter', params: DeploymentParams, body: ScaleBody, responses: { 200: DeploymentResponse },
  }),
  deploymentLogs: endpoint({
    method: 'GET', url: `${base}/:id/logs`, summary: "The last lines a replica's process wrote (stdout and stderr)", tags,
    permission: 'asset:read', scope: 'filter', params: DeploymentParams, query: LogsQuery, responses: { 200: DeploymentLogs },
  }),
};
