/**
 * Endpoints of notifications: webhooks and their deliveries, retraining triggers. All need
 * `token:admin` (a webhook sends events out of the system); a namespace-limited admin token
 * makes and sees only webhooks and triggers of its namespaces.
 */
import { namespaceOf } from './asset-names.js';
import { endpoint } from './endpoint.js';
import {
  CreateTriggerBody,
  CreateWebhookBody,
  CreatedWebhookResponse,
  DeliveryPage,
  ListDeliveriesQuery,
  ListTriggersQuery,
  ListWebhooksQuery,
  TestDeliveryResponse,
  TriggerPage,
  TriggerParams,
  TriggerResponse,
  WebhookPage,
  WebhookParams,
  WebhookResponse,
} from './notify.js';

const tags = ['notifications'];
/** The namespace a webhook body names (raw, before validation): a limited token may only make webhooks of its own. */
const hookNamespace = (body: unknown): string | null => {
  const ns = (body as { namespace?: unknown } | null)?.namespace;
  return typeof ns === 'string' ? ns : null;
};
const triggerNamespace = (body: unknown): string | null => namespaceOf((body as { model?: unknown } | null)?.model);

export const notifyEndpoints = {
  createWebhook: endpoint({
    method: 'POST', url: '/api/v1/webhooks', summary: 'Send events to a URL (JSON or Slack format, signed; its secret is shown once)', tags,
    permission: 'token:admin', scope: ({ body }) => [hookNamespace(body)], body: CreateWebhookBody, responses: { 201: CreatedWebhookResponse },
  }),
  listWebhooks: endpoint({
    method: 'GET', url: '/api/v1/webhooks', summary: 'Webhooks, newest first (never their secrets)', tags,
    permission: 'token:admin', scope: 'filter', query: ListWebhooksQuery, responses: { 200: WebhookPage },
  }),
  getWebhook: endpoint({
    method: 'GET', url: '/api/v1/webhooks/:id', summary: 'A webhook', tags,
    permission: 'token:admin', scope: 'filter', params: WebhookParams, responses: { 200: WebhookResponse },
  }),
  deleteWebhook: endpoint({
    method: 'DELETE', url: '/api/v1/webhooks/:id', summary: 'Delete a webhook and its deliveries (refused while a trigger fires it)', tags,
    permission: 'token:admin', scope: 'filter', params: WebhookParams, responses: { 204: null },
  }),
  listDeliveries: endpoint({
    method: 'GET', url: '/api/v1/webhooks/:id/deliveries', summary: "A webhook's deliveries, newest first: state, attempts, last error, response status", tags,
    permission: 'token:admin', scope: 'filter', params: WebhookParams, query: ListDeliveriesQuery, responses: { 200: DeliveryPage },
  }),
  testWebhook: endpoint({
    method: 'POST', url: '/api/v1/webhooks/:id/test', summary: 'Send a test notice now, once, and answer how the endpoint took it', tags,
    permission: 'token:admin', scope: 'filter', params: WebhookParams, responses: { 200: TestDeliveryResponse },
  }),
  createTrigger: endpoint({
    method: 'POST', url: '/api/v1/triggers', summary: "A retraining trigger: an event about a model (with conditions) or a schedule fires a webhook", tags,
    permission: 'token:admin', scope: ({ body }) => [triggerNamespace(body)], body: CreateTriggerBody, responses: { 201: TriggerResponse },
  }),
  listTriggers: endpoint({
    method: 'GET', url: '/api/v1/triggers', summary: 'Retraining triggers, newest first', tags,
    permission: 'token:admin', scope: 'filter', query: ListTriggersQuery, responses: { 200: TriggerPage },
  }),
  getTrigger: endpoint({
    method: 'GET', url: '/api/v1/triggers/:id', summary: 'A retraining trigger: its rule, next and last firing', tags,
    permission: 'token:admin', scope: 'filter', params: TriggerParams, responses: { 200: TriggerResponse },
  }),
  deleteTrigger: endpoint({
    method: 'DELETE', url: '/api/v1/triggers/:id', summary: 'Delete a retraining trigger (its next scheduled firing is cancelled)', tags,
    permission: 'token:admin', scope: 'filter', params: TriggerParams, responses: { 204: null },
  }),
};
