/**
 * A tiny closed-loop load generator: `concurrency` workers issue `total` requests built by
 * `makeRequest(i)`, recording each latency. Returns throughput and latency percentiles.
 * Measures in one run, side by side, so ratios between workloads are meaningful even on a
 * noisy machine; absolute numbers are not.
 */
export interface LoadResult {
  name: string;
  requests: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

export async function runLoad(
  name: string,
  total: number,
  concurrency: number,
  makeRequest: (i: number) => { url: string; init: RequestInit },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const { url, init } = makeRequest(i);
      const t0 = process.hrtime.bigint();
      const res = await fetch(url, init);
      await res.arrayBuffer();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!res.ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { name, requests: total, seconds: round(seconds), perSecond: round(total / seconds), p50ms: round(pct(50)), p99ms: round(pct(99)), errors };
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
