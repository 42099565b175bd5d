/**
 * Every endpoint of the control plane's API, by feature: the table the SDK's typed client calls
 * through (`client.api((t) => t.models.getVersion, …)`) and against which the server registers
 * its handlers. A test checks that the server serves exactly these.
 */
import { assetEndpoints } from './assets-endpoints.js';
import { auditEndpoints } from './audit-endpoints.js';
import { authEndpoints } from './auth-endpoints.js';
import { deploymentsEndpoints } from './deployments-endpoints.js';
import { evalsEndpoints } from './evals-endpoints.js';
import { eventsEndpoints } from './events-endpoints.js';
import { exportEndpoints } from './export-endpoints.js';
import { gatewayEndpoints } from './gateway-endpoints.js';
import { jobsEndpoints } from './jobs-endpoints.js';
import { monitoringEndpoints } from './monitoring-endpoints.js';
import { notifyEndpoints } from './notify-endpoints.js';
import { promotionsEndpoints } from './promotions-endpoints.js';
import { promptsEndpoints } from './prompts-endpoints.js';
import { rolloutsEndpoints } from './rollouts-endpoints.js';
import { uploadsEndpoints } from './uploads-endpoints.js';

export const ENDPOINTS = {
  models: assetEndpoints.model,
  datasets: assetEndpoints.dataset,
  prompts: assetEndpoints.prompt,
  promptTools: promptsEndpoints,
  auth: authEndpoints,
  audit: auditEndpoints,
  uploads: uploadsEndpoints,
  evals: evalsEndpoints,
  events: eventsEndpoints,
  jobs: jobsEndpoints,
  promotions: promotionsEndpoints,
  deployments: deploymentsEndpoints,
  gateway: gatewayEndpoints,
  monitoring: monitoringEndpoints,
  notify: notifyEndpoints,
  export: exportEndpoints,
  rollouts: rolloutsEndpoints,
};
export type EndpointTable = typeof ENDPOINTS;
