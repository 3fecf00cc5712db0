// Merge cost against customer size: pairs of customers of exactly k rows each, merged one at a
// time through the service; the fitted slope says how the cost grows with k.
import { loadCustomers, toEmail, toLayout, toPhoneNumber } from '../harness/dataset.js'
import { withClient } from '../harness/fresh-database.js'
import type { Service } from './service.js'
import { fitLine, round, summarizeLatencies } from './stats.js'

/** The time one merge took for each k, the fitted line, and whether growth is at most linear. */
export type MergeCost = {
  pairsPerSize: number
  sizes: { k: number; medianMs: number; p95Ms: number; samplesMs: number[] }[]
  /** Least-squares slope of ms against k over every sample, ms per row of each customer. */
  slopeMsPerRow: number
  interceptMs: number
  r2: number
  /** Growth exponent between the two largest k: 1 is linear, below 1 is sublinear. */
  exponent: number
  isAtMostLinear: boolean
}

// Noise on a 2-core machine can push an exactly linear cost slightly above exponent 1.
const LINEAR_TOLERANCE = 1.1

/**
 * Appends `pairs` pairs of k-row customers for every k in `ks` (customers numbered from
 * `firstCustomer`), then merges each pair with one request: the older customer's email and the
 * younger one's phone number, which re-links all k rows of the younger customer.
 */
export async function measureMergeCost(
  service: Service,
  databaseUrl: string,
  firstCustomer: number,
  ks: readonly number[],
  pairs: number,
): Promise<MergeCost> {
  const warmupPairs = 5
  const sizes = [
    ...Array.from({ length: 2 * warmupPairs }, () => 1),
    ...ks.flatMap((k) => Array.from({ length: 2 * pairs }, () => k)),
  ]
  await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ max: number }>('select max("id") as max from "Contact"')
    await loadCustomers(client, toLayout(sizes, (rows[0]?.max ?? 0) + 1), firstCustomer)
    await client.query('analyze "Contact"')
  })

  const merge = async (older: number, k: number) => {
    const started = performance.now()
    const response = await fetch(`${service.url}/identify`, {
      method: 'POST',
      headers: service.headers,
      body: JSON.stringify({
        email: toEmail(older, 0),
        phoneNumber: toPhoneNumber(older + 1, 0),
      }),
    })
    const answer = (await response.json()) as { contact?: { secondaryContactIds: number[] } }
    const ms = performance.now() - started
    if (response.status !== 200 || answer.contact?.secondaryContactIds.length !== 2 * k - 1) {
      throw new Error(`Merging two customers of ${k} rows answered ${JSON.stringify(answer)}`)
    }
    return ms
  }

  let customer = firstCustomer
  for (let i = 0; i < warmupPairs; i++, customer += 2) await merge(customer, 1)
  const results: MergeCost['sizes'] = []
  for (const k of ks) {
    const samplesMs: number[] = []
    for (let i = 0; i < pairs; i++, customer += 2) samplesMs.push(await merge(customer, k))
    const summary = summarizeLatencies(Float64Array.from(samplesMs))
    results.push({
      k,
      medianMs: summary.p50,
      p95Ms: summary.p95,
      samplesMs: samplesMs.map((ms) => round(ms)),
    })
  }

  const line = fitLine(results.flatMap(({ k, samplesMs }) => samplesMs.map((y) => ({ x: k, y }))))
  const [second, largest] = results.slice(-2)
  const exponent =
    second === undefined || largest === undefined
      ? 0
      : Math.log(largest.medianMs / second.medianMs) / Math.log(largest.k / second.k)
  return {
    pairsPerSize: pairs,
    sizes: results,
    slopeMsPerRow: round(line.slope, 4),
    interceptMs: round(line.intercept),
    r2: round(line.r2, 3),
    exponent: round(exponent, 2),
    isAtMostLinear: exponent <= LINEAR_TOLERANCE,
  }
}
