import { describe, expect, it } from 'vitest';
import { isPageRequest } from './web-ui.js';

describe('which unmatched requests get the web UI', () => {
  const html = 'text/html,application/xhtml+xml,*/*;q=0.8';
  it('a browser asking for any page path, deep links and versions included', () => {
    for (const url of ['/', '/models', '/models/acme/bot/-/versions/1.0.0?tab=files', '/evals/runs/run_1', '/audit?action=promotion.*']) expect(isPageRequest('GET', url, html), url).toBe(true);
    expect(isPageRequest('HEAD', '/models', html)).toBe(true);
  });
  it('never the API, the gateway, health, metrics or a missing asset', () => {
    for (const url of ['/api/v1/nothing', '/api', '/v1/models', '/healthz', '/readyz?x=1', '/metrics', '/assets/missing.js']) expect(isPageRequest('GET', url, html), url).toBe(false);
  });
  it('never a client that does not ask for HTML, nor a write', () => {
    expect(isPageRequest('GET', '/models', 'application/json')).toBe(false);
    expect(isPageRequest('GET', '/models', undefined)).toBe(false);
    expect(isPageRequest('POST', '/models', html)).toBe(false);
  });
});
