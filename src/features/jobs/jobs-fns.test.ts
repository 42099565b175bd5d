import { describe, expect, it } from 'vitest';
import { backoffMs, errorText } from './jobs-fns.js';

describe('backoffMs', () => {
  const backoff = { baseMs: 100, maxMs: 1000 };

  it('doubles per attempt, from the upper half of each step', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, backoff, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((a) => backoffMs(a, backoff, () => 1))).toEqual([100, 200, 400, 800]);
  });

  it('caps the step at maxMs, however many attempts failed', () => {
    expect(backoffMs(5, backoff, () => 1)).toBe(1000);
    expect(backoffMs(60, backoff, () => 1)).toBe(1000);
    expect(backoffMs(60, backoff, () => 0)).toBe(500);
  });
});

describe('errorText', () => {
  it('keeps the message of an error and the text of anything thrown, cut to a bounded length', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(new Error('x'.repeat(5000))).length).toBe(2001);
  });
});
