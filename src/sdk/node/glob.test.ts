import { describe, expect, it } from 'vitest';
import { globMatcher } from './glob.js';

describe('globMatcher', () => {
  it.each([
    ['config.json', 'config.json', true],
    ['config.json', 'tokenizer/config.json', true],
    ['/config.json', 'tokenizer/config.json', false],
    ['/config.json', 'config.json', true],
    ['*.json', 'a/b/c.json', true],
    ['*.json', 'a.jsonl', false],
    ['tokenizer/*.json', 'tokenizer/vocab.json', true],
    ['tokenizer/*.json', 'x/tokenizer/vocab.json', false],
    ['tokenizer/*.json', 'tokenizer/sub/vocab.json', false],
    ['**/*.bin', 'w.bin', true],
    ['**/*.bin', 'a/b/w.bin', true],
    ['weights/**', 'weights/a/b.bin', true],
    ['weights/**', 'weightsx', false],
    ['model-?????-of-*.safetensors', 'model-00001-of-00002.safetensors', true],
    ['w[0-9].bin', 'w7.bin', true],
    ['w[!0-9].bin', 'w7.bin', false],
    ['a.b', 'axb', false],
    ['a+(b)', 'a+(b)', true],
  ])('%s against %s: %s', (pattern, path, expected) => {
    expect(globMatcher([pattern])(path)).toBe(expected);
  });

  it('matches any of several patterns', () => {
    const m = globMatcher(['config.json', '*.txt']);
    expect(['config.json', 'a/notes.txt', 'w.bin'].filter(m)).toEqual(['config.json', 'a/notes.txt']);
  });
});
