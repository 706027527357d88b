// Small statistics for benchmark reports: percentiles by nearest rank.

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summary(values: readonly number[]): {
  p50Ms: number | null;
  p99Ms: number | null;
  samples: number;
} {
  return { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), samples: values.length };
}
