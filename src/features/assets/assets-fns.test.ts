import { describe, expect, it } from 'vitest';
import { canonicalManifest, decodeCursor, diffManifests, encodeCursor, manifestDigest, metricDeltas, pageJson, versionKey, withFieldsJson } from './assets-fns.js';

const f = (path: string, sha = 'a'.repeat(64), size = 1) => ({ path, sha256: sha, size });

describe('manifest digest', () => {
  it('does not depend on the order files are listed in', () => {
    expect(manifestDigest([f('b'), f('a')])).toBe(manifestDigest([f('a'), f('b')]));
  });
  it('changes when any hash, size or path changes', () => {
    const base = manifestDigest([f('a')]);
    expect(manifestDigest([f('a', 'b'.repeat(64))])).not.toBe(base);
    expect(manifestDigest([f('a', undefined, 2)])).not.toBe(base);
    expect(manifestDigest([f('A')])).not.toBe(base);
  });
  it('renders a fixed canonical form', () => {
    expect(canonicalManifest([f('x/y.bin', 'c'.repeat(64), 7)])).toBe(`[{"path":"x/y.bin","sha256":"${'c'.repeat(64)}","size":7}]`);
  });
});

describe('versionKey orders by semantic-version precedence', () => {
  it('sorts the semver.org example sequence', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0', '2.0.0'];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort((a, b) => (versionKey(a) < versionKey(b) ? -1 : 1))).toEqual(ordered);
  });
  it('ignores build metadata', () => {
    expect(versionKey('1.0.0+build.5')).toBe(versionKey('1.0.0'));
  });
});

describe('cursors', () => {
  it('round-trip', () => {
    expect(decodeCursor(encodeCursor(['x', 3]), 2)).toEqual(['x', 3]);
  });
  it('reject tampering with an invalid_argument', () => {
    expect(() => decodeCursor('not-a-cursor', 2)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => decodeCursor(encodeCursor([1]), 2)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});

describe('comparison', () => {
  it('classifies files as added, removed, changed or unchanged', () => {
    const d = diffManifests([f('same'), f('gone'), f('edit')], [f('same'), f('edit', 'e'.repeat(64)), f('new')]);
    expect(d.unchanged).toBe(1);
    expect(d.files.map((x) => [x.path, x.change])).toEqual([
      ['edit', 'changed'],
      ['gone', 'removed'],
      ['new', 'added'],
    ]);
  });
  it('computes metric deltas including benchmark results', () => {
    const deltas = metricDeltas({ accuracy_score: 0.8, benchmark_results: { mmlu: 60 } }, { accuracy_score: 0.85, benchmark_results: { mmlu: 62, gsm8k: 40 } });
    expect(deltas.find((d) => d.metric === 'accuracy_score')?.delta).toBeCloseTo(0.05);
    expect(deltas.find((d) => d.metric === 'benchmark_results.mmlu')?.delta).toBe(2);
    expect(deltas.find((d) => d.metric === 'benchmark_results.gsm8k')).toEqual({ metric: 'benchmark_results.gsm8k', before: null, after: 40, delta: null });
  });
});

describe('JSON text around database-rendered documents', () => {
  const doc = { kind: 'model', name: 'a/b', files: [{ path: 'x' }], updatedAt: 'T' };
  const keys = new Set(Object.keys(doc));
  const text = JSON.stringify(doc);

  it('renders a page exactly as JSON.stringify renders the object', () => {
    expect(pageJson([text, text], 'c"1')).toBe(JSON.stringify({ items: [doc, doc], nextCursor: 'c"1' }));
    expect(pageJson([], null)).toBe(JSON.stringify({ items: [], nextCursor: null }));
  });

  it('appends fields as the spread { ...doc, ...fields } renders them', () => {
    const fields = { evaluations: [{ run: 'r', metrics: { 'a"b': 0.1 + 0.2 } }], skipped: undefined, more: null };
    expect(withFieldsJson(text, fields, keys)).toBe(JSON.stringify({ ...doc, ...fields }));
    expect(withFieldsJson(text, {}, keys)).toBe(text);
    expect(withFieldsJson(text, { skipped: undefined }, keys)).toBe(text);
  });

  it('keeps a replaced key in its place, as the spread does', () => {
    expect(withFieldsJson(text, { name: 'c/d', evaluations: [] }, keys)).toBe(JSON.stringify({ ...doc, name: 'c/d', evaluations: [] }));
    expect(withFieldsJson('{}', { evaluations: [] }, new Set())).toBe('{"evaluations":[]}');
  });
});
