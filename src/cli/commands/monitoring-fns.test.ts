import { describe, expect, it } from 'vitest';
import { ms, pct, sparkline } from './monitoring-fns.js';

describe('sparkline', () => {
  it('scales from zero to the highest value, one bar per point', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▁▂▃▄▅▆▇█');
    expect(sparkline([5, 0, 5])).toBe('█▁█');
  });
  it('shows a point without a figure as a space, and a flat line low', () => {
    expect(sparkline([null, 1, null])).toBe(' █ ');
    expect(sparkline([0, 0, 0])).toBe('▁▁▁');
    expect(sparkline([null, null])).toBe('  ');
  });
  it('formats durations and shares', () => {
    expect([ms(null), ms(12.4), ms(25_000)]).toEqual(['-', '12 ms', '25.0 s']);
    expect([pct(null), pct(0.0123)]).toEqual(['-', '1.23%']);
  });
});
