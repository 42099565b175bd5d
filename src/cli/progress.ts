/**
 * Byte progress bars (bytes, rate, ETA) on stderr, built on cli-progress. When nobody is
 * watching (no TTY, --json, CI) every method is a no-op, so commands call it unconditionally.
 * A push shows two bars at once, hashing and uploading, because it does both at once.
 */
import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';
import type { PushProgress } from '../sdk/node/push.js';
import { formatBytes } from './cli-context.js';

/** cli-progress, loaded the first time a bar is shown: scripts and --json runs never pay its start-up. */
let loaded: typeof CliProgress | null = null;
const cliProgress = (): typeof CliProgress => (loaded ??= createRequire(import.meta.url)('cli-progress') as typeof CliProgress);

export interface ByteProgress {
  add(bytes: number): void;
  /** Changes the total by `bytes` (negative to shrink it). */
  grow(bytes: number): void;
  stop(): void;
}

const NONE: ByteProgress = { add: () => undefined, grow: () => undefined, stop: () => undefined };

const barOptions = (label: string) => ({
  format: `${label.padEnd(9)} {bar} {percentage}% | {doneH}/{totalH} | {rate}/s | ETA {eta_formatted}`,
  barCompleteChar: '█',
  barIncompleteChar: '░',
  hideCursor: true,
  stream: process.stderr,
  etaBuffer: 50,
  fps: 10,
});

interface BarLike {
  update(value: number, payload: object): void;
  setTotal(total: number): void;
}

/** Wraps one cli-progress bar: counts bytes and keeps the human-readable payload current. */
function tracked(bar: BarLike, initialTotal: number): ByteProgress & { payload(): object } {
  let done = 0;
  let total = initialTotal;
  const started = Date.now();
  const payload = () => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    return { doneH: formatBytes(done), totalH: formatBytes(total), rate: formatBytes(done / secs) };
  };
  return {
    payload,
    add(bytes: number) {
      done += bytes;
      bar.update(done, payload());
    },
    grow(bytes: number) {
      total += bytes;
      bar.setTotal(total);
      bar.update(done, payload());
    },
    stop() {
      bar.update(done, payload());
    },
  };
}

export function byteProgress(label: string, total: number, enabled: boolean): ByteProgress {
  if (!enabled || total === 0) return NONE;
  const bar = new (cliProgress().SingleBar)(barOptions(label), cliProgress().Presets.shades_classic);
  const t = tracked(bar, total);
  bar.start(total, 0, t.payload());
  return {
    add: t.add,
    grow: t.grow,
    stop() {
      t.stop();
      bar.stop();
    },
  };
}

/**
 * The bars of a push, drawn from the SDK's progress events: `hashing` (only when something needs
 * hashing: the first event gives that total) and `uploading`, whose total grows as blobs are queued.
 */
export function pushProgress(enabled: boolean): { onProgress(e: PushProgress): void; stop(): void } {
  if (!enabled) return { onProgress: () => undefined, stop: () => undefined };
  const multi = new (cliProgress().MultiBar)({ ...barOptions(''), format: '{label} {bar} {percentage}% | {doneH}/{totalH} | {rate}/s | ETA {eta_formatted}' }, cliProgress().Presets.shades_classic);
  const make = (label: string, total: number): ByteProgress => {
    const bar = multi.create(total, 0, { label: label.padEnd(9), doneH: formatBytes(0), totalH: formatBytes(total), rate: formatBytes(0) });
    return tracked(bar, total);
  };
  let hashing: ByteProgress | null = null;
  let uploading: ByteProgress | null = null;
  return {
    onProgress(e) {
      if (!uploading) {
        hashing = e.type === 'hash-total' && e.bytes > 0 ? make('hashing', e.bytes) : NONE;
        uploading = make('uploading', 0);
        if (e.type === 'hash-total') return;
      }
      if (e.type === 'hash-total') hashing!.grow(e.bytes);
      else if (e.type === 'hashed') hashing!.add(e.bytes);
      else if (e.type === 'upload-total') uploading.grow(e.bytes);
      else if (e.type === 'uploaded') uploading.add(e.bytes);
    },
    stop() {
      hashing?.stop();
      uploading?.stop();
      multi.stop();
    },
  };
}

export interface CountProgress {
  update(done: number, total: number, failed: number): void;
  stop(): void;
}

/** A bar counting items (evaluation cases): done/total, failures, rate and ETA. */
export function countProgress(label: string, unit: string, enabled: boolean): CountProgress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new (cliProgress().SingleBar)(
    { ...barOptions(label), format: `${label.padEnd(9)} {bar} {percentage}% | {value}/{total} ${unit} | {failed} failed | {rate} ${unit}/s | ETA {eta_formatted}` },
    cliProgress().Presets.shades_classic,
  );
  let started = false;
  const t0 = Date.now();
  let first = 0;
  return {
    update(done, total, failed) {
      if (!started) first = done;
      const rate = ((done - first) / Math.max((Date.now() - t0) / 1000, 0.001)).toFixed(1);
      if (!started) {
        bar.start(total, done, { failed, rate });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { failed, rate });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
