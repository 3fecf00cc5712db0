// Summaries of measured samples: latency percentiles and a least-squares line.

/** Latency of a run's requests, in milliseconds. */
export type LatencySummary = { mean: number; p50: number; p95: number; p99: number; max: number }

/** Collects latencies without reallocating on every sample. */
export function createLatencyRecorder() {
  let samples = new Float64Array(1 << 16)
  let count = 0
  return {
    record(ms: number) {
      if (count === samples.length) {
        const grown = new Float64Array(samples.length * 2)
        grown.set(samples)
        samples = grown
      }
      samples[count++] = ms
    },
    count: () => count,
    summarize: () => summarizeLatencies(samples.subarray(0, count)),
  }
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits

/** Nearest-rank percentiles of `samples` (ms). */
export function summarizeLatencies(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort()
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
  const sum = sorted.reduce((total, value) => total + value, 0)
  return {
    mean: round(sorted.length === 0 ? 0 : sum / sorted.length),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? 0),
  }
}

/** The least-squares line through `points`, with R². */
export function fitLine(points: readonly { x: number; y: number }[]) {
  const n = points.length
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n
  const sxx = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0)
  const sxy = points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0)
  const syy = points.reduce((sum, p) => sum + (p.y - meanY) ** 2, 0)
  const slope = sxx === 0 ? 0 : sxy / sxx
  const intercept = meanY - slope * meanX
  const r2 = syy === 0 || sxx === 0 ? 1 : (sxy * sxy) / (sxx * syy)
  return { slope, intercept, r2 }
}

/** Rounds `value` for reports. */
export { round }
