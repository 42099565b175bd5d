import { describe, expect, it } from 'vitest';
import { jsonDeeperThan, MAX_JSON_DEPTH } from './common.js';

const nested = (n: number) => `${'{"a":['.repeat(n)}1${']}'.repeat(n)}`;

describe('jsonDeeperThan', () => {
  it('counts arrays and objects, not scalars', () => {
    expect(jsonDeeperThan('1', 0)).toBe(false);
    expect(jsonDeeperThan('"x"', 0)).toBe(false);
    expect(jsonDeeperThan('{}', 0)).toBe(true);
    expect(jsonDeeperThan('{}', 1)).toBe(false);
    expect(jsonDeeperThan('[[],[],{"a":{}}]', 3)).toBe(false);
    expect(jsonDeeperThan('[[],[],{"a":{}}]', 2)).toBe(true);
    // 2 levels per repetition
    expect(jsonDeeperThan(nested(32), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDeeperThan(nested(33), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDeeperThan('['.repeat(100_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDeeperThan(JSON.stringify({ a: '[[[[[[{{{{' }), 1)).toBe(false);
    expect(jsonDeeperThan(JSON.stringify({ a: 'say \\"[[[[\\" \\\\', b: '"[[[' }), 1)).toBe(false);
    expect(jsonDeeperThan(JSON.stringify({ a: 'x\\', b: [[1]] }), 2)).toBe(true);
    expect(jsonDeeperThan('{"a": "unterminated [[[[', 1)).toBe(false);
  });
});
