/**
 * Statistics of a dataset's tabular files, computed on the pushing machine while the files are
 * read: rows per file and per split, columns, null counts, and the length distribution of text
 * values. A file that does not parse is reported with the line that broke it; the bytes are
 * still pushed unless the caller asks for strictness.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { parse } from 'csv-parse';

export interface ColumnStats {
  /** Rows where the column is absent, null or (CSV) empty. */
  nulls: number;
  /** Rows where the value is a string: their length distribution. */
  text: { count: number; min: number; p50: number; p90: number; max: number; mean: number } | null;
}

export interface FileStats {
  path: string;
  format: 'jsonl' | 'csv';
  split: 'train' | 'validation' | 'test' | null;
  rows: number;
  columns: Record<string, ColumnStats>;
  errors: { line: number; message: string }[];
  /** More parse errors than the ones listed. */
  moreErrors: number;
}

export interface DatasetStats {
  format: string;
  rows: number;
  splits: Partial<Record<'train' | 'validation' | 'test', number>>;
  columns: string[];
  files: FileStats[];
  parseErrors: number;
}

const MAX_LISTED_ERRORS = 10;
/** Text lengths kept per column for percentiles; beyond this a reservoir sample keeps it bounded. */
const SAMPLE = 10_000;

export function splitOf(path: string): FileStats['split'] {
  const p = path.toLowerCase();
  if (/(^|[/_.-])(train|training)([/_.-]|$)/.test(p)) return 'train';
  if (/(^|[/_.-])(validation|valid|val|dev)([/_.-]|$)/.test(p)) return 'validation';
  if (/(^|[/_.-])(test|testing|eval)([/_.-]|$)/.test(p)) return 'test';
  return null;
}

export function formatOf(path: string): FileStats['format'] | null {
  const p = path.toLowerCase();
  if (p.endsWith('.jsonl') || p.endsWith('.ndjson')) return 'jsonl';
  if (p.endsWith('.csv')) return 'csv';
  return null;
}

class Collector {
  rows = 0;
  private cols = new Map<string, { present: number; lengths: number[]; seen: number; sum: number; min: number; max: number }>();

  row(values: Record<string, unknown>, isNull: (v: unknown) => boolean): void {
    this.rows++;
    for (const [k, v] of Object.entries(values)) {
      let c = this.cols.get(k);
      if (!c) {
        c = { present: 0, lengths: [], seen: 0, sum: 0, min: Infinity, max: 0 };
        this.cols.set(k, c);
      }
      if (isNull(v)) continue;
      c.present++;
      if (typeof v === 'string') {
        const n = v.length;
        c.seen++;
        c.sum += n;
        c.min = Math.min(c.min, n);
        c.max = Math.max(c.max, n);
        if (c.lengths.length < SAMPLE) c.lengths.push(n);
        else {
          const j = Math.floor(Math.random() * c.seen);
          if (j < SAMPLE) c.lengths[j] = n;
        }
      }
    }
  }

  columns(): Record<string, ColumnStats> {
    const out: Record<string, ColumnStats> = {};
    for (const [k, c] of this.cols) {
      const sorted = [...c.lengths].sort((a, b) => a - b);
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
      out[k] = {
        nulls: this.rows - c.present,
        text: c.seen ? { count: c.seen, min: c.min, p50: pct(0.5), p90: pct(0.9), max: c.max, mean: Math.round((c.sum / c.seen) * 10) / 10 } : null,
      };
    }
    return out;
  }
}

async function jsonlStats(abs: string, path: string): Promise<FileStats> {
  const col = new Collector();
  const errors: FileStats['errors'] = [];
  let errorCount = 0;
  let line = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(abs), crlfDelay: Infinity });
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    try {
      const v = JSON.parse(text) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('each line must be a JSON object');
      col.row(v as Record<string, unknown>, (x) => x === null || x === undefined);
    } catch (err) {
      errorCount++;
      if (errors.length < MAX_LISTED_ERRORS) errors.push({ line, message: (err as Error).message });
    }
  }
  return { path, format: 'jsonl', split: splitOf(path), rows: col.rows, columns: col.columns(), errors, moreErrors: errorCount - errors.length };
}

async function csvStats(abs: string, path: string): Promise<FileStats> {
  const col = new Collector();
  const errors: FileStats['errors'] = [];
  const parser = fs.createReadStream(abs).pipe(parse({ columns: true, bom: true, skip_empty_lines: true }));
  try {
    for await (const record of parser) col.row(record as Record<string, unknown>, (x) => x === '' || x === null || x === undefined);
  } catch (err) {
    // The CSV grammar cannot resynchronise after a broken quote: report where it broke and stop.
    const e = err as Error & { lines?: number };
    errors.push({ line: e.lines ?? 0, message: e.message });
  }
  // Every column appears in every CSV row: absent keys never happen, so nulls are the empty cells.
  return { path, format: 'csv', split: splitOf(path), rows: col.rows, columns: col.columns(), errors, moreErrors: 0 };
}

/** Statistics of the JSONL/CSV files among `files`; other files are ignored. */
export async function datasetStats(files: readonly { path: string; abs: string }[]): Promise<DatasetStats> {
  const out: FileStats[] = [];
  for (const f of files) {
    const fmt = formatOf(f.path);
    if (fmt === 'jsonl') out.push(await jsonlStats(f.abs, f.path));
    else if (fmt === 'csv') out.push(await csvStats(f.abs, f.path));
  }
  const splits: DatasetStats['splits'] = {};
  for (const f of out) if (f.split) splits[f.split] = (splits[f.split] ?? 0) + f.rows;
  const formats = [...new Set(out.map((f) => f.format))];
  return {
    format: formats.length === 1 ? formats[0]! : formats.length ? 'mixed' : 'files',
    rows: out.reduce((s, f) => s + f.rows, 0),
    splits,
    columns: [...new Set(out.flatMap((f) => Object.keys(f.columns)))].sort(),
    files: out,
    parseErrors: out.reduce((s, f) => s + f.errors.length + f.moreErrors, 0),
  };
}
