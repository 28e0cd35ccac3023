export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The nearest-rank percentile `p` (0–100] of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/**
 * The order of round `round` (0-based): a Williams design, i.e. rows of a balanced Latin
 * square. Every round shifts each contender's index by one (a rotation), but the row is
 * interleaved (0, 1, n-1, 2, n-2, ...) so that, over n rounds (2n for odd n), each contender
 * runs right after every other one equally often. A plain rotation keeps the same
 * neighbours forever (b always after a), which lets one contender's after-effects
 * (garbage collection, freed memory, a busy processor) fall on the same other contender.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const base: number[] = [];
  for (let j = 0, lo = 1, hi = n - 1; j < n; j++) base.push(j === 0 ? 0 : j % 2 === 1 ? lo++ : hi--);
  const row = n % 2 === 1 && Math.floor(round / n) % 2 === 1 ? [...base].reverse() : base;
  return row.map((i) => items[(i + round) % n]);
}

export function fixed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const text = value.toFixed(digits);
  // -0.04 rounds to "-0.0": print "0.0"
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** "median (min–max)" with the given number of decimals. */
export function spread(s: Summary, digits: number): string {
  if (s.n === 0) return 'n/a';
  if (s.n === 1) return fixed(s.median, digits);
  return `${fixed(s.median, digits)} (${fixed(s.min, digits)}–${fixed(s.max, digits)})`;
}

export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}
