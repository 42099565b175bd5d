import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { datasetStats, splitOf } from './dataset-stats.js';

function files(contents: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-ds-'));
  return Object.entries(contents).map(([p, c]) => {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), c);
    return { path: p, abs: path.join(dir, p) };
  });
}

describe('datasetStats', () => {
  it('counts rows per split, columns, nulls and text lengths of JSONL and CSV', async () => {
    const s = await datasetStats(
      files({
        'train.jsonl': '{"prompt":"hi","answer":"hello"}\n{"prompt":"hey there","answer":null}\n\n{"prompt":"yo"}\n',
        'data/validation.csv': 'prompt,answer\n"a, b",x\n"multi\nline",\n',
        'README.md': '# not counted',
      }),
    );
    expect(s.rows).toBe(5);
    expect(s.splits).toEqual({ train: 3, validation: 2 });
    expect(s.format).toBe('mixed');
    expect(s.columns).toEqual(['answer', 'prompt']);
    const train = s.files.find((f) => f.path === 'train.jsonl')!;
    expect(train.columns.answer!.nulls).toBe(2);
    expect(train.columns.prompt!.text).toMatchObject({ count: 3, min: 2, max: 9 });
    const val = s.files.find((f) => f.path === 'data/validation.csv')!;
    expect(val.columns.prompt!.text).toMatchObject({ min: 4, max: 10 });
    expect(val.columns.answer!.nulls).toBe(1);
    expect(s.parseErrors).toBe(0);
  });

  it('reports the line of JSONL that does not parse and keeps counting the rest', async () => {
    const s = await datasetStats(files({ 'test.jsonl': '{"a":1}\n{"a":\n[1,2]\n{"a":2}\n' }));
    expect(s.rows).toBe(2);
    expect(s.files[0]!.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(s.files[0]!.errors[1]!.message).toContain('JSON object');
    expect(s.parseErrors).toBe(2);
  });

  it('reports where a CSV breaks', async () => {
    const s = await datasetStats(files({ 'bad.csv': 'a,b\n1,2\n3,"unclosed\n' }));
    expect(s.files[0]!.errors).toHaveLength(1);
    expect(s.files[0]!.errors[0]!.line).toBeGreaterThanOrEqual(3);
    expect(s.parseErrors).toBe(1);
  });

  it('recognises split names in paths', () => {
    expect(splitOf('data/train-00001.jsonl')).toBe('train');
    expect(splitOf('dev.csv')).toBe('validation');
    expect(splitOf('eval/test.jsonl')).toBe('test');
    expect(splitOf('contest.jsonl')).toBeNull();
  });
});
