import { describe, expect, it } from 'vitest';
import { benchmarkResults, metadataRows } from './metadata-fns.js';

describe('version metadata on its page', () => {
  it('shows the typed model fields first, named and with units, then the rest as given', () => {
    const rows = metadataRows({ custom: 'x', parameters: 8_030_000_000, architecture: 'llama', max_sequence_length: 8192, gpu_memory_gb: 16, benchmark_results: { mmlu: 0.6 }, evalSuite: {} });
    expect(rows).toEqual([
      ['Architecture', 'llama'],
      ['Parameters', '8B'],
      ['Context length', '8,192 tokens'],
      ['GPU memory', '16.0 GB'],
      ['custom', 'x'],
    ]);
  });
  it('reads numeric benchmark results only', () => {
    expect(benchmarkResults({ benchmark_results: { mmlu: 0.6, note: 'n/a' } })).toEqual([['mmlu', 0.6]]);
    expect(benchmarkResults({})).toEqual([]);
  });
});
