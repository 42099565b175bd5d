/**
 * Names of the gateway's Prometheus metrics, one definition: the meter registers them, exported alert rules and
 * dashboards query them. Requests carry model, version, deployment, environment and status;
 * the histograms the same without status; tokens add direction (input, output).
 */
export const GATEWAY_METRICS = {
  requests: 'steward_gateway_requests_total',
  duration: 'steward_gateway_request_duration_seconds',
  ttft: 'steward_gateway_time_to_first_token_seconds',
  tokens: 'steward_gateway_tokens_total',
  cost: 'steward_gateway_cost_usd_total',
} as const;
