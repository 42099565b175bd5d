/** Pure helpers of the monitoring commands: terminal sparklines and the figures' formatting. */

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One character per value, scaled between 0 (or the lowest value, when it is negative) and the
 * highest; null (no traffic, so no ratio or percentile) is a space, never a guess.
 */
export function sparkline(values: readonly (number | null)[]): string {
  const known = values.filter((v): v is number => v !== null);
  if (!known.length) return ' '.repeat(values.length);
  const lo = Math.min(0, ...known);
  const hi = Math.max(...known);
  return values
    .map((v) => {
      if (v === null) return ' ';
      if (hi === lo) return BARS[0];
      return BARS[Math.floor(((v - lo) / (hi - lo)) * (BARS.length - 1))];
    })
    .join('');
}

export const ms = (v: number | null): string => (v === null ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
export const pct = (v: number | null, digits = 2): string => (v === null ? '-' : `${(v * 100).toFixed(digits)}%`);
