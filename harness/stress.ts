// The stress run behind `npm run stress` and tests/stress.integration.test.ts: the service as its
// own process against a real Postgres, overlapping requests through one driver, then the table
// proven: the integrity checker finds nothing, the customers are exactly the connected components
// of all requests sent, every 200 held its request's identifiers, and the only 5xx were 503s that
// succeeded when resent.
import { sql } from 'drizzle-orm'
import type { Identifiers } from '../lib/core/contact.js'
import { selectRows } from '../lib/db/database.js'
import { openDatabase } from '../lib/db/open.js'
import { DEVELOPMENT_ERASURE_KEY } from '../lib/guard/config.js'
import { DEFAULT_MATCH_KEYS } from '../lib/guard/match-keys.js'
import { checkIntegrity } from '../lib/integrity/check.js'
import { checkGuard } from '../lib/integrity/guard.js'
import { checkLedger } from '../lib/integrity/ledger.js'
import { type Driver, readEnv } from '../lib/platform/env.js'
import { createFreshDatabase } from './fresh-database.js'
import { connectCustomers, groupCustomers, type StoredContact } from './invariants.js'
import { startNeonHttpProxy } from './neon-http-proxy.js'
import { seededRandom } from './random.js'
import { startServiceProcess } from './service-process.js'

/** The load: how many requests, how many at once, and how many identifiers they draw from. */
export type StressOptions = {
  requests: number
  concurrency: number
  /** Emails and phone numbers each; small enough that most requests meet an existing customer. */
  poolSize: number
  seed: number
  /**
   * Guard calls racing the requests: one block, unblock or erasure of a pool value after every
   * this many requests started (0: none). The table is then proven against its evidence instead
   * of against the requests, which blocks and erasures change.
   */
  guardEvery?: number
}

/** What one run measured and found. */
export type StressResult = {
  driver: Driver
  requests: number
  concurrency: number
  seconds: number
  requestsPerSecond: number
  /** Conflicting writes the service retried internally, from its own log lines. */
  retries: number
  retriesPerRequest: number
  /** 503s answered and then resent by the client, which succeeded. */
  resent503: number
  /** Guard calls that changed the graph (the rest were 404 or 409). */
  guardCalls: number
  /**
   * Guard calls still answered 503 after every resend: refused whole, as promised, by a customer
   * too busy to lock (on Neon's HTTP path, which cannot lock before it reads).
   */
  guardRefused: number
  otherFailures: string[]
  violations: string[]
}

/** Draws `options.requests` requests: 35% email and phone, 35% email only, 30% phone only. */
export function generateRequests(options: StressOptions): Identifiers[] {
  const random = seededRandom(options.seed)
  const pick = () => Math.floor(random() * options.poolSize)
  return Array.from({ length: options.requests }, () => {
    const roll = random()
    return {
      email: roll < 0.7 ? `shopper${pick()}@stress.test` : null,
      phoneNumber: roll >= 0.35 ? `+44700${pick()}` : null,
    }
  })
}

/** Runs the load once through `driver` on a fresh database of the server at `adminUrl`. */
export async function runStress(
  adminUrl: string,
  driver: Driver,
  options: StressOptions,
): Promise<StressResult> {
  const fresh = await createFreshDatabase(adminUrl, {
    name: `identity_stress_${driver.replace('-', '_')}_${process.pid}`,
  })
  const url = new URL(fresh.url)
  const database = await openDatabase(
    readEnv({ DATABASE_URL: fresh.url, DATABASE_DRIVER: 'node-postgres' }),
  )

  const proxy =
    driver === 'neon-http' ? await startNeonHttpProxy({ connectionString: url.toString() }) : null
  const service = await startServiceProcess({
    DATABASE_URL: url.toString(),
    DATABASE_DRIVER: driver,
    ...(proxy ? { NEON_HTTP_ENDPOINT: proxy.url } : {}),
  })
  try {
    const requests = generateRequests(options)
    const otherFailures: string[] = []
    let resent503 = 0
    const unanswered = new Set<number>()
    let next = 0
    const started = performance.now()
    const guard = createGuardCaller(service.url, options, otherFailures)
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        for (let index = next++; index < requests.length; index = next++) {
          const request = requests[index] as Identifiers
          if (options.guardEvery && index % options.guardEvery === 0) await guard.call()
          for (let sends = 1; ; sends++) {
            const response = await fetch(`${service.url}/identify`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(request),
            })
            const body = (await response.json()) as {
              contact?: { emails: string[]; phoneNumbers: string[] }
            }
            if (response.status === 503 && sends < 10) {
              resent503++
              // As a storefront should: wait what Retry-After asks, spread so resends do not
              // arrive together and meet the same hot customer again.
              const seconds = Number(response.headers.get('retry-after') ?? 1)
              await new Promise((resolve) =>
                setTimeout(resolve, seconds * 1000 * (0.5 + Math.random())),
              )
              continue
            }
            const contact = body.contact
            // Racing blocks, a request whose only identifier is blocked is refused, rightly.
            if (options.guardEvery && response.status === 422) {
              unanswered.add(index)
            } else if (response.status !== 200 || contact === undefined) {
              unanswered.add(index)
              otherFailures.push(`request ${index}: ${response.status} ${JSON.stringify(body)}`)
            } else if (
              (request.email !== null && !contact.emails.includes(request.email)) ||
              (request.phoneNumber !== null && !contact.phoneNumbers.includes(request.phoneNumber))
            ) {
              otherFailures.push(`request ${index}: the answer lacks one of its identifiers`)
            }
            break
          }
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000

    const report = await checkIntegrity(database)
    const rows = await selectRows<StoredContact>(
      database.db,
      sql`select "id", "email", "phoneNumber", "emailKey", "phoneKey", "linkedId", "deletedAt" from "Contact"`,
    )
    const violations = report.violations.map((v) => `${v.kind}: rows ${v.rowIds.join(', ')}`)
    if (options.guardEvery) {
      // Every customer is exactly what its evidence, minus blocked values, holds together.
      for (const finding of await checkLedger(database)) violations.push(`ledger: ${finding.kind}`)
      for (const finding of await checkGuard(database, {
        matchKeys: DEFAULT_MATCH_KEYS,
        erasureKey: DEVELOPMENT_ERASURE_KEY,
      })) {
        violations.push(`guard: ${finding.kind}`)
      }
    } else {
      // A request finally answered 503 wrote nothing (and is reported above), so the table must
      // hold exactly what the answered requests connect.
      const answered = requests.filter((_, index) => !unanswered.has(index))
      if (JSON.stringify(groupCustomers(rows)) !== JSON.stringify(connectCustomers(answered))) {
        violations.push(
          'the customers in the table are not the connected components of the requests',
        )
      }
    }
    const retries = service.logs
      .filter((line) => line.msg === 'identify')
      .reduce((sum, line) => sum + Math.max(0, Number(line.attempts ?? 1) - 1), 0)
    return {
      driver,
      requests: options.requests,
      concurrency: options.concurrency,
      seconds: Number(seconds.toFixed(2)),
      requestsPerSecond: Math.round(options.requests / seconds),
      retries,
      retriesPerRequest: Number((retries / options.requests).toFixed(3)),
      resent503,
      guardCalls: guard.calls(),
      guardRefused: guard.refused(),
      otherFailures,
      violations,
    }
  } finally {
    await service.stop()
    await proxy?.close()
    await database.close()
    await fresh.drop()
  }
}

// Blocks, unblocks and erasures of pool values through the admin API, each resent after a 503
// as a storefront would: half block a phone, a quarter unblock one, a quarter erase an email.
function createGuardCaller(url: string, options: StressOptions, failures: string[]) {
  const random = seededRandom(options.seed + 1)
  const pick = () => Math.floor(random() * options.poolSize)
  let calls = 0
  let refused = 0
  return {
    calls: () => calls,
    refused: () => refused,
    async call() {
      const roll = random()
      const [method, path, body] =
        roll < 0.5
          ? ['POST', '/api/blocked-identifiers', { phoneNumber: `+44700${pick()}` }]
          : roll < 0.75
            ? ['DELETE', '/api/blocked-identifiers', { phoneNumber: `+44700${pick()}` }]
            : ['DELETE', '/api/identifiers', { email: `shopper${pick()}@stress.test` }]
      for (let sends = 1; ; sends++) {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        await response.arrayBuffer()
        if (response.status === 503 && sends < 10) {
          await new Promise((resolve) => setTimeout(resolve, 200 + 300 * Math.random()))
          continue
        }
        if (response.status < 300) calls++
        else if (response.status === 503) refused++
        else if (![404, 409].includes(response.status)) {
          failures.push(`guard ${method} ${path}: ${response.status}`)
        }
        return
      }
    },
  }
}
