import { describe, expect, it } from 'vitest';
import { faultInjector } from './builtin-server.js';

describe('faultInjector', () => {
  it('fails exactly the share asked for, spread evenly', () => {
    const next = faultInjector(0.2);
    const fails = Array.from({ length: 100 }, () => next());
    expect(fails.filter(Boolean)).toHaveLength(20);
    expect(fails.slice(0, 10)).toEqual([false, false, false, false, true, false, false, false, false, true]);
  });

  it('never fails at 0 and always fails at 1', () => {
    const none = faultInjector(0);
    const all = faultInjector(1);
    for (let i = 0; i < 10; i++) {
      expect(none()).toBe(false);
      expect(all()).toBe(true);
    }
  });

  it('refuses a rate outside 0..1', () => {
    expect(() => faultInjector(1.5)).toThrow(/between 0 and 1/);
    expect(() => faultInjector(Number.NaN)).toThrow(/between 0 and 1/);
  });
});
