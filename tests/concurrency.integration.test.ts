// Many overlapping requests at once on the server-backed drivers: afterwards the table holds
// exactly the customers a union-find over every request sent says it should, and no invariant
// is broken. The request stream is seeded, so a failure replays exactly.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  connectCustomers,
  findViolations,
  groupCustomers,
  readAllContacts,
} from '../harness/invariants.js'
import { seededRandom } from '../harness/random.js'
import type { Identifiers } from '../lib/core/contact.js'
import { openTestDatabase, SERVER_DRIVERS, type TestDatabase } from './support/database.js'
import { createTestClient } from './support/http.js'

const REQUESTS = 500
const CONCURRENCY = 16

// Draws from `poolSize` emails and as many phone numbers: a small pool makes a few hot customers
// that nearly every request merges into; a larger one, many customers that still link and merge.
function generateRequests(seed: number, poolSize: number): Identifiers[] {
  const random = seededRandom(seed)
  const pick = () => Math.floor(random() * poolSize)
  return Array.from({ length: REQUESTS }, () => {
    const roll = random()
    return {
      email: roll < 0.7 ? `shopper${pick()}@store.test` : null,
      phoneNumber: roll >= 0.35 ? `+4470000${pick()}` : null,
    }
  })
}

describe.each(SERVER_DRIVERS)('on %s', (driver) => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await openTestDatabase(driver)
  })
  afterAll(() => database.dispose())

  test.each([
    ['a few hot customers', 40],
    ['many customers', 150],
  ])(
    `${REQUESTS} overlapping requests at concurrency ${CONCURRENCY} (%s) leave exactly the connected customers`,
    async (_, poolSize) => {
      await database.query('truncate "Contact" restart identity')
      const client = createTestClient(database)
      const requests = generateRequests(20261125, poolSize)
      const statuses = new Map<number, number>()
      const missing: string[] = []
      let next = 0
      const started = performance.now()

      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let index = next++; index < requests.length; index = next++) {
            const request = requests[index] as Identifiers
            // A storefront resends on 503, as Retry-After asks.
            for (let tries = 0; tries < 5; tries++) {
              const { status, body } = await client.identify(request)
              statuses.set(status, (statuses.get(status) ?? 0) + 1)
              if (status === 503) continue
              const contact = (body as { contact: { emails: string[]; phoneNumbers: string[] } })
                .contact
              if (request.email && !contact.emails.includes(request.email))
                missing.push(`request ${index}: email`)
              if (request.phoneNumber && !contact.phoneNumbers.includes(request.phoneNumber))
                missing.push(`request ${index}: phone`)
              break
            }
          }
        }),
      )

      const seconds = (performance.now() - started) / 1000
      const lines = client.logger.lines.filter((line) => line.msg === 'identify')
      const retries = lines.reduce((sum, line) => sum + (Number(line.attempts) || 1) - 1, 0)
      const rows = await readAllContacts(database)
      const customers = groupCustomers(rows)
      console.log(
        JSON.stringify({
          driver,
          poolSize,
          requests: REQUESTS,
          concurrency: CONCURRENCY,
          seconds: Number(seconds.toFixed(2)),
          requestsPerSecond: Math.round(REQUESTS / seconds),
          statuses: Object.fromEntries(statuses),
          conflictRetries: retries,
          rows: rows.length,
          customers: customers.length,
        }),
      )

      expect([...statuses.keys()].filter((status) => status !== 200 && status !== 503)).toEqual([])
      expect(statuses.get(200)).toBe(REQUESTS)
      expect(missing).toEqual([])
      expect(findViolations(rows)).toEqual([])
      expect(customers).toEqual(connectCustomers(requests))
      // Every distinct identifier pair needs at most one row.
      expect(rows.length).toBeLessThanOrEqual(
        new Set(requests.map((r) => `${r.email}|${r.phoneNumber}`)).size,
      )
    },
  )
})
