/**
 * Control-plane endpoints of the gateway: keys (`token:admin`, confined to a limited token's
 * namespaces), traffic splits and model settings (`asset:write` on the model's namespace), usage
 * (`asset:read`, filtered), and what gateway replicas call with a `gateway` token
 * (`gateway:sync`): the route-table snapshot and usage batches.
 */
import { namespaceOf } from './asset-names.js';
import { endpoint } from './endpoint.js';
import {
  CostQuery,
  CostReport,
  CreateKeyBody,
  CreatedKeyResponse,
  GatewayModelBody,
  GatewayModelParams,
  GatewayModelResponse,
  GatewaySnapshot,
  KeyPage,
  KeyParams,
  KeyResponse,
  ListKeysQuery,
  SnapshotQuery,
  TrafficBody,
  TrafficParams,
  TrafficResponse,
  UsageBatch,
  UsageIngestResponse,
  UsageQuery,
  UsageReport,
} from './gateway.js';

const tags = ['gateway'];
/** The namespace a key body names (raw, before validation): a limited token may only make keys of its own. */
const keyNamespace = (body: unknown): string | null => {
  const ns = (body as { namespace?: unknown } | null)?.namespace;
  return typeof ns === 'string' ? ns : null;
};

export const gatewayEndpoints = {
  createKey: endpoint({
    method: 'POST', url: '/api/v1/keys', summary: 'Create a gateway API key (its secret is shown once)', tags,
    permission: 'token:admin', scope: ({ body }) => [keyNamespace(body)], body: CreateKeyBody, responses: { 201: CreatedKeyResponse },
  }),
  listKeys: endpoint({
    method: 'GET', url: '/api/v1/keys', summary: 'Gateway API keys, newest first', tags,
    permission: 'token:admin', scope: 'filter', query: ListKeysQuery, responses: { 200: KeyPage },
  }),
  getKey: endpoint({
    method: 'GET', url: '/api/v1/keys/:id', summary: 'A gateway API key: limits, budget, spend', tags,
    permission: 'token:admin', scope: 'filter', params: KeyParams, responses: { 200: KeyResponse },
  }),
  revokeKey: endpoint({
    method: 'POST', url: '/api/v1/keys/:id/revoke', summary: 'Revoke a gateway API key (gateways refuse it once their snapshot follows)', tags,
    permission: 'token:admin', scope: 'filter', params: KeyParams, responses: { 200: KeyResponse },
  }),
  getTraffic: endpoint({
    method: 'GET', url: '/api/v1/traffic/:name/:environment', summary: "A model's traffic split in an environment", tags,
    permission: 'asset:read', scope: ({ params }) => [namespaceOf(params.name)], params: TrafficParams, responses: { 200: TrafficResponse },
  }),
  putTraffic: endpoint({
    method: 'PUT', url: '/api/v1/traffic/:name/:environment', summary: "Set a model's traffic split in an environment: weighted arms, sticky assignment, shadow, fallbacks", tags,
    permission: 'asset:write', scope: ({ params }) => [namespaceOf(params.name)], params: TrafficParams, body: TrafficBody, responses: { 200: TrafficResponse },
  }),
  deleteTraffic: endpoint({
    method: 'DELETE', url: '/api/v1/traffic/:name/:environment', summary: "Clear a split: traffic goes to the environment's deployments again", tags,
    permission: 'asset:write', scope: ({ params }) => [namespaceOf(params.name)], params: TrafficParams, responses: { 204: null },
  }),
  putModelSettings: endpoint({
    method: 'PUT', url: '/api/v1/gateway/models/:name', summary: "A model's gateway settings (the opt-in response cache)", tags,
    permission: 'asset:write', scope: ({ params }) => [namespaceOf(params.name)], params: GatewayModelParams, body: GatewayModelBody, responses: { 200: GatewayModelResponse },
  }),
  snapshot: endpoint({
    method: 'GET', url: '/api/v1/gateway/snapshot', summary: 'The route table gateways serve from; with `after`, waits up to `wait` s for a newer one (204: none came)', tags,
    permission: 'gateway:sync', query: SnapshotQuery, responses: { 200: GatewaySnapshot, 204: null },
  }),
  ingestUsage: endpoint({
    method: 'POST', url: '/api/v1/gateway/usage', summary: "A gateway's batch of usage records (a replayed batch is counted once)", tags,
    // 10,000 records of a few hundred bytes each.
    permission: 'gateway:sync', body: UsageBatch, bodyLimit: 8 * 1024 * 1024, responses: { 200: UsageIngestResponse },
  }),
  cost: endpoint({
    method: 'GET', url: '/api/v1/cost', summary: 'Cost over a period by model, key, namespace or deployment: per-token prices, and GPU-hour prices divided by the tokens served', tags,
    permission: 'asset:read', scope: 'filter', query: CostQuery, responses: { 200: CostReport },
  }),
  usage: endpoint({
    method: 'GET', url: '/api/v1/usage', summary: 'Usage aggregated by model, version, key, namespace, deployment or environment', tags,
    permission: 'asset:read', scope: 'filter', query: UsageQuery, responses: { 200: UsageReport },
  }),
};
