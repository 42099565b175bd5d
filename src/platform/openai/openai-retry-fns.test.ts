import { describe, expect, it } from 'vitest';
import { OpenAIError, retryAfterMs } from './openai-errors.js';
import { backoffMs, withRetries } from './openai-retry-fns.js';

const transient = (message: string, retryAfter: number | null = 0) => new OpenAIError(message, { kind: 'status', transient: true, status: 503, upstreamMessage: message, retryAfterMs: retryAfter });

describe('retry timing', () => {
  it('reads Retry-After as seconds or an HTTP date, capped at a minute', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs('3600')).toBe(60_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });

  it('backs off exponentially with ±50% jitter, capped', () => {
    expect(backoffMs(1, 100, () => 0.5)).toBe(100);
    expect(backoffMs(3, 100, () => 0.5)).toBe(400);
    expect(backoffMs(3, 100, () => 0)).toBe(200);
    expect(backoffMs(3, 100, () => 0.999)).toBe(600);
    expect(backoffMs(20, 100, () => 0.5)).toBe(8000);
  });
});

describe('withRetries', () => {
  const signal = new AbortController().signal;
  it('retries transient errors and reports the attempts', async () => {
    let n = 0;
    const r = await withRetries(async () => {
      if (++n < 3) throw transient('busy');
      return 'ok';
    }, { retries: 3, baseMs: 0, signal });
    expect(r).toEqual({ result: 'ok', attempts: 3 });
  });

  it('stops at a permanent error at once, and after the retries on a transient one, keeping what the upstream said', async () => {
    let n = 0;
    const perm = await withRetries(async () => {
      n++;
      throw new OpenAIError('bad request', { kind: 'status', transient: false, status: 400 });
    }, { retries: 3, baseMs: 0, signal });
    expect(n).toBe(1);
    expect(perm.error!.message).toBe('bad request');
    const trans = await withRetries(async () => {
      throw transient('down');
    }, { retries: 2, baseMs: 0, signal });
    expect(trans.attempts).toBe(3);
    expect(trans.error).toMatchObject({ message: 'down (after 3 attempts)', transient: true, status: 503, upstreamMessage: 'down', kind: 'status' });
  });

  it('returns an error of the caller\'s own code as final, without retrying it', async () => {
    let n = 0;
    const r = await withRetries(async () => {
      n++;
      throw new TypeError('boom');
    }, { retries: 3, baseMs: 0, signal });
    expect(n).toBe(1);
    expect(r.error).toMatchObject({ message: 'boom', kind: 'internal', transient: false });
  });

  it('throws when the signal aborts during a backoff', async () => {
    const ctl = new AbortController();
    const p = withRetries(async () => {
      throw transient('busy', 60_000);
    }, { retries: 3, baseMs: 0, signal: ctl.signal });
    setImmediate(() => ctl.abort(new Error('shutdown')));
    await expect(p).rejects.toThrow('shutdown');
  });
});
