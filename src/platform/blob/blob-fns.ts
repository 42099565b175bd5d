/** Pure helpers shared by the blob store implementations. */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';

/** A pass-through that hashes and counts, and fails fast once more than `limit` bytes arrive. */
export class HashingCounter extends Transform {
  readonly hash: Hash;
  bytes = 0;
  constructor(
    private readonly limit: number,
    hash?: Hash,
    private readonly onLimit: (limit: number) => Error = (l) =>
      new AppError('unprocessable', `blob is larger than its declared size of ${l} bytes`, { size: l }),
  ) {
    // 1 MiB buffers: fewer, larger writes; the default 16 KiB costs ~10% throughput at GB/s.
    super({ highWaterMark: 1 << 20 });
    this.hash = hash ?? createHash('sha256');
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(this.onLimit(this.limit));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

export function mismatchError(expected: string, actual: string, size: number, expectedSize?: number): AppError {
  if (expectedSize !== undefined && size !== expectedSize) {
    return new AppError('unprocessable', `blob has ${size} bytes but ${expectedSize} were declared`, {
      expectedSize,
      size,
    });
  }
  return new AppError('unprocessable', `blob content does not match its sha256: expected ${expected}, got ${actual}`, {
    expected,
    actual,
    size,
  });
}

export function assertSessionId(id: string): void {
  // Session ids become file and key names: only the server's own UUIDs are accepted.
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('invalid_argument', `invalid upload session id ${JSON.stringify(id)}`);
}
