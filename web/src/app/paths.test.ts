import { describe, expect, it } from 'vitest';
import { parseAssetPath, paths } from './paths.js';

describe('asset URLs', () => {
  it('put a namespaced name in the path and what follows it after /-/', () => {
    expect(paths.asset('model', 'acme/bot')).toBe('/models/acme/bot');
    expect(paths.version('model', 'acme/bot', '1.2.0', 'files')).toBe('/models/acme/bot/-/versions/1.2.0?tab=files');
    expect(paths.compare('prompt', 'p', '1.0.0', '2.0.0')).toBe('/prompts/p/-/compare?a=1.0.0&b=2.0.0');
  });
  it('read back what they wrote, names with one segment or two', () => {
    expect(parseAssetPath('acme/bot')).toEqual({ name: 'acme/bot', page: 'asset' });
    expect(parseAssetPath('bot/')).toEqual({ name: 'bot', page: 'asset' });
    expect(parseAssetPath('acme/bot/-/versions/1.2.0')).toEqual({ name: 'acme/bot', page: 'version', version: '1.2.0' });
    expect(parseAssetPath('acme/bot/-/compare')).toEqual({ name: 'acme/bot', page: 'compare' });
    expect(parseAssetPath('Llama-3.1-8B%2BQ4')).toEqual({ name: 'Llama-3.1-8B+Q4', page: 'asset' });
  });
  it('refuse what is no page', () => {
    expect(parseAssetPath('')).toBeNull();
    expect(parseAssetPath('acme/bot/-/nothing')).toBeNull();
    expect(parseAssetPath('acme/bot/-/versions')).toBeNull();
  });
});
