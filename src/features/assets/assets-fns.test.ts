import { describe, expect, it } from 'vitest';
import { AssetResponse, VersionResponse } from '../../contracts/assets.js';
import { assetDocument, canonicalManifest, decodeCursor, diffManifests, encodeCursor, manifestDigest, metricDeltas, versionDocument, versionKey } from './assets-fns.js';

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

describe('documents built from rows', () => {
  const T = '2025-01-01T00:00:00.000Z';
  const row = {
    kind: 'model', name: 'a/b', version: '1.0.0', state: 'ready', digest: 'sha256:x', size: 2 ** 53 - 1, file_count: 1, metadata: '{"z":1,"a":{"b":[null]}}', labels: '{"team":"nlp"}',
    card: null, created_at: T, created_by: null, ready_at: T, expires_at: null, archived_at: null, files_released_at: null, updated_at: T, aliases: ['champion'],
    lineage: [{ relation: 'base_model', kind: null, name: null, version: null, ref: 'hf:x' }],
  };

  it('builds a version document valid against the strict contract, files only when read', () => {
    const doc = versionDocument(row);
    expect(VersionResponse.parse(doc)).toEqual(doc);
    expect(doc).not.toHaveProperty('files');
    expect(doc.metadata).toEqual({ z: 1, a: { b: [null] } });
    const withFiles = versionDocument({ ...row, files: [{ path: 'w.bin', size: 2 ** 40, sha256: 'a'.repeat(64) }] });
    expect(VersionResponse.parse(withFiles).files).toEqual([{ path: 'w.bin', size: 2 ** 40, sha256: 'a'.repeat(64) }]);
  });

  it('builds an asset document valid against the strict contract', () => {
    const doc = assetDocument({ kind: 'dataset', name: 'd', namespace: null, description: '', owner: null, labels: '{}', version_count: 3, latest_version: '2.0.0', keep_archived_files: 2, created_at: T, created_by: 'x', updated_at: T });
    expect(AssetResponse.parse(doc)).toEqual(doc);
    expect(doc).toMatchObject({ versionCount: 3, latestVersion: '2.0.0', keepArchivedFiles: 2, labels: {} });
  });
});
