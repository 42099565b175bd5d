/**
 * Byte progress bars (bytes, rate, ETA) on stderr, built on cli-progress. When nobody is
 * watching (no TTY, --json, CI) every method is a no-op, so commands call it unconditionally.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from './cli-context.js';

export interface ByteProgress {
  add(bytes: number): void;
  stop(): void;
}

export function byteProgress(label: string, total: number, enabled: boolean): ByteProgress {
  if (!enabled || total === 0) return { add: () => undefined, stop: () => undefined };
  let done = 0;
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(9)} {bar} {percentage}% | {doneH}/{totalH} | {rate}/s | ETA {eta_formatted}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = () => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    return { doneH: formatBytes(done), totalH: formatBytes(total), rate: formatBytes(done / secs) };
  };
  bar.start(total, 0, payload());
  return {
    add(bytes: number) {
      done += bytes;
      bar.update(done, payload());
    },
    stop() {
      bar.update(done, payload());
      bar.stop();
    },
  };
}
