import { describe, expect, it } from 'vitest';
import { namespaceOfRef, parseAssetRef } from './asset-names.js';

describe('NAME[:REF] references', () => {
  it('splits at the last colon; names may hold one slash', () => {
    expect(parseAssetRef('acme/bot:1.2.0')).toEqual({ name: 'acme/bot', ref: '1.2.0' });
    expect(parseAssetRef('bot:champion')).toEqual({ name: 'bot', ref: 'champion' });
    expect(parseAssetRef('bot')).toEqual({ name: 'bot', ref: null });
  });

  it('fills a default ref, or requires one', () => {
    expect(parseAssetRef('bot', { defaultRef: 'latest' })).toEqual({ name: 'bot', ref: 'latest' });
    expect(parseAssetRef('bot:1.0.0', { defaultRef: 'latest' })).toEqual({ name: 'bot', ref: '1.0.0' });
    expect(parseAssetRef('bot', { requireRef: true })).toBe('"bot" must look like NAME:VERSION or NAME:ALIAS');
  });

  it('names what is malformed instead of guessing', () => {
    for (const bad of ['', ':1.0.0', 'bot:', '  ', 'a b:1.0.0', 'bot:1.0 .0', 'bot:\u00001', 'a/b/c:1.0.0', 'bot:1:2', '-bot:1.0.0', 'team\u0000b/x:1.0.0']) {
      expect(parseAssetRef(bad), JSON.stringify(bad)).toMatch(/must look like NAME or NAME:REF/);
    }
  });

  it('trims surrounding whitespace, so a check and a lookup read the same reference', () => {
    expect(parseAssetRef('teamb/x:1.0.0 ')).toEqual({ name: 'teamb/x', ref: '1.0.0' });
    expect(parseAssetRef('\t teamb/x:1.0.0\n')).toEqual({ name: 'teamb/x', ref: '1.0.0' });
    expect(namespaceOfRef('teamb/x:1.0.0 ')).toBe('teamb');
    expect(namespaceOfRef(' teamb/x')).toBe('teamb');
  });

  it('finds the namespace of the name part, whatever arrives', () => {
    expect(namespaceOfRef('acme/bot:1.0.0')).toBe('acme');
    expect(namespaceOfRef('acme/bot')).toBe('acme');
    expect(namespaceOfRef('bot:1.0.0')).toBeNull();
    expect(namespaceOfRef(42)).toBeNull();
    // Malformed: no namespace can be read, so a limited token is refused (null is granted to no one).
    expect(namespaceOfRef('teamb/x:1.0 .0')).toBeNull();
  });
});
