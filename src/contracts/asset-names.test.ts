import { describe, expect, it } from 'vitest';
import { filePathProblem, namespaceOfRef, normalizeFilePath, parseAssetRef } from './asset-names.js';

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

describe('manifest paths', () => {
  it('accepts ordinary relative paths, non-ASCII names included', () => {
    for (const ok of ['config.json', 'tok/vocab.txt', 'dir/my file ü#?%.bin', '日本/モデル.bin', 'a..b/c.d', '😀.txt']) expect(filePathProblem(ok), ok).toBeNull();
  });

  it('refuses the unsafe shapes', () => {
    expect(filePathProblem('')).toBe('is empty');
    expect(filePathProblem('/etc/passwd')).toBe('is absolute');
    expect(filePathProblem('C:x')).toBe('is absolute');
    expect(filePathProblem('a/../b')).toBe('contains ".."');
    expect(filePathProblem('a//b')).toBe('has an empty or "." segment');
    expect(filePathProblem('a\\b')).toBe('contains a backslash');
    expect(filePathProblem('a\0b')).toBe('contains a NUL byte');
  });

  it('refuses control characters and lone surrogates, naming the code point', () => {
    expect(filePathProblem('a\nb')).toBe('contains the control character U+000A');
    expect(filePathProblem('a\u001bb')).toBe('contains the control character U+001B');
    expect(filePathProblem('a\u007f')).toBe('contains the control character U+007F');
    expect(filePathProblem('a\u0085b')).toBe('contains the control character U+0085');
    expect(filePathProblem('a\ud800b')).toBe('contains a lone surrogate (U+D800): it is not valid Unicode text');
    expect(filePathProblem('a\udfffb')).toBe('contains a lone surrogate (U+DFFF): it is not valid Unicode text');
  });

  it('refuses paths that become "..", "." or absolute once compatibility characters are folded', () => {
    expect(filePathProblem('\uff0e\uff0e/x')).toMatch(/^contains "\.\." once its compatibility characters are folded \(NFKC: "\.\.\/x"\)$/);
    expect(filePathProblem('a/\uff0e/b')).toMatch(/^has an empty or "\." segment once/);
    expect(filePathProblem('\u2025/x')).toMatch(/^contains "\.\." once/);
    expect(filePathProblem('\uff0fetc/passwd')).toMatch(/^is absolute once/);
    expect(filePathProblem('a\uff3cb')).toMatch(/^contains a backslash once/);
  });

  it('stores the composed (NFC) spelling, so the decomposed one is the same path', () => {
    expect(normalizeFilePath('cafe\u0301.txt')).toBe('caf\u00e9.txt');
    expect(normalizeFilePath('caf\u00e9.txt')).toBe('caf\u00e9.txt');
  });
});
