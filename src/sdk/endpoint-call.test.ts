import { describe, expect, it } from 'vitest';
import { endpointPath } from './endpoint-call.js';

describe('endpoint paths', () => {
  it('encodes each parameter, a namespaced name included', () => {
    expect(endpointPath('/api/v1/models/:name/versions/:version', { name: 'acme/bot', version: '1.0.0+build' })).toBe('/api/v1/models/acme%2Fbot/versions/1.0.0%2Bbuild');
  });

  it('keeps the slashes of a trailing wildcard and encodes its segments', () => {
    expect(endpointPath('/api/v1/models/:name/versions/:version/files/*', { name: 'bot', version: '1.0.0', '*': 'dir one/a#b.bin' })).toBe(
      '/api/v1/models/bot/versions/1.0.0/files/dir%20one/a%23b.bin',
    );
  });

  it('refuses a missing parameter instead of calling a wrong path', () => {
    expect(() => endpointPath('/api/v1/tokens/:id', {})).toThrow('path parameter id is missing');
  });
});
