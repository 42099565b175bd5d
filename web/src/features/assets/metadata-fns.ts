/**
 * How a version's metadata reads on its page: the typed model fields (contracts' ModelMetadata)
 * first, under their names and with their units, then any other key as given. Pure.
 */
import { formatBytes, formatCount, formatValue } from '../../ui/format.js';

const FIELDS: [key: string, label: string, format?: (v: unknown) => string][] = [
  ['architecture', 'Architecture'],
  ['framework', 'Framework'],
  ['parameters', 'Parameters', (v) => (typeof v === 'number' ? formatCount(v) : formatValue(v))],
  ['precision', 'Precision'],
  ['max_sequence_length', 'Context length', (v) => (typeof v === 'number' ? `${v.toLocaleString('en-US')} tokens` : formatValue(v))],
  ['memory_gb', 'Memory', (v) => (typeof v === 'number' ? formatBytes(v * 1e9) : formatValue(v))],
  ['gpu_memory_gb', 'GPU memory', (v) => (typeof v === 'number' ? formatBytes(v * 1e9) : formatValue(v))],
  ['min_gpu_count', 'Minimum GPUs'],
  ['recommended_gpu_type', 'Recommended GPU'],
  ['throughput_tokens_per_second', 'Throughput', (v) => `${formatValue(v)} tokens/s`],
  ['latency_p95_ms', 'Latency p95', (v) => `${formatValue(v)} ms`],
  ['accuracy_score', 'Accuracy', (v) => formatValue(v)],
  ['training_dataset', 'Training dataset'],
  ['parent_model', 'Parent model'],
  ['default_batch_size', 'Default batch size'],
  ['recommended_replicas', 'Recommended replicas'],
];

/** Keys shown elsewhere on the page (benchmarks as a chart; a suite's or prompt's spec, a dataset's statistics in their own panels). */
const ELSEWHERE = new Set(['benchmark_results', 'evalSuite', 'template', 'variables', 'modelConfig', 'safety', 'statistics', 'splits', 'columns', 'rows']);

export function metadataRows(metadata: Record<string, unknown>): [string, string][] {
  const rows: [string, string][] = [];
  const known = new Set<string>();
  for (const [key, label, format] of FIELDS) {
    known.add(key);
    if (metadata[key] === undefined || metadata[key] === null) continue;
    rows.push([label, (format ?? formatValue)(metadata[key])]);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (known.has(k) || ELSEWHERE.has(k) || v === undefined) continue;
    rows.push([k, formatValue(v)]);
  }
  return rows;
}

/** Benchmark results of the metadata (`benchmark_results`), when they are numbers. */
export function benchmarkResults(metadata: Record<string, unknown>): [string, number][] {
  const b = metadata.benchmark_results;
  if (!b || typeof b !== 'object') return [];
  return Object.entries(b as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === 'number');
}
