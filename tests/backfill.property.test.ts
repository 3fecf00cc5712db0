// The backfill's meaning (issue 13): loading orders through `runBackfill` leaves exactly the table
// that sending them to identify one by one, oldest first, leaves, on top of the same existing rows.
// Two databases get the same history through identify; then one gets the orders as a file, the
// other through identify with its clock at each order's createdAt. Identify calls made while the
// backfill runs (between its plan and its lock) land before the file's orders on the other. The history mixes in values
// the store blocked. Rows (ids, links, times),
// blocklists and the integrity checks must agree.
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runBackfill } from '../lib/backfill/run.js'
import type { SharingLimits } from '../lib/core/blocklist.js'
import { DEVELOPMENT_ERASURE_KEY } from '../lib/guard/config.js'
import { DEFAULT_MATCH_KEYS } from '../lib/guard/match-keys.js'
import { checkIntegrity } from '../lib/integrity/check.js'
import { checkGuard } from '../lib/integrity/guard.js'
import { checkLedger } from '../lib/integrity/ledger.js'
import { toCustomerShape } from './support/customer-shape.js'
import { openTestDatabase, type TestDatabase } from './support/database.js'
import { createTestClient } from './support/http.js'

const EMAILS = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io', 'e@x.io', 'n/a', 'noreply@x.io']
const PHONES = ['1', '2', '3', '4', '5', '0000000000']
const LIMITS: SharingLimits = { maxEmailsPerPhone: 2, maxPhonesPerEmail: 2 }
const T0 = Date.parse('2025-01-01T00:00:00Z')

type Order = { email: string | null; phoneNumber: string | null; minute: number }
// What happened before the backfill: identify calls, and now and then the store blocking a value.
type Step = Order | { block: { email: string } | { phoneNumber: string } }

const order = fc
  .record({
    email: fc.option(fc.constantFrom(...EMAILS), { nil: null }),
    phoneNumber: fc.option(fc.constantFrom(...PHONES), { nil: null }),
    // Few distinct minutes: ties (file order decides) and orders older than existing rows.
    minute: fc.integer({ min: 0, max: 12 }),
  })
  .filter((o) => o.email !== null || o.phoneNumber !== null)

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: order },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('a@x.io', 'b@x.io').map((email) => ({ block: { email } })),
      fc.constantFrom('1', '2').map((phoneNumber) => ({ block: { phoneNumber } })),
    ),
  },
)

const TABLE = `select "id", "email", "phoneNumber", "emailKey", "phoneKey", "keyVersion", "linkedId",
  "linkPrecedence", "createdAt", "deletedAt" from "Contact" order by "id"`
const BLOCKED = `select "kind", "key", "value", "reason" from "BlockedIdentifier" order by "kind", "key"`
const PAIRS = `select "evidenceEmailKey", "evidencePhoneKey" from "ContactEvent"
  where "evidenceEmailKey" is not null and "evidencePhoneKey" is not null
  order by "evidenceEmailKey", "evidencePhoneKey"`

const toCsv = (orders: readonly Order[]) =>
  [
    'createdAt,email,phoneNumber,orderId',
    ...orders.map(
      (o, index) =>
        `${new Date(T0 + o.minute * 60_000).toISOString()},${o.email ?? ''},${o.phoneNumber ?? ''},o${index}`,
    ),
  ].join('\n')

describe('backfill against identify', () => {
  let viaFile: TestDatabase
  let viaIdentify: TestDatabase
  beforeAll(async () => {
    ;[viaFile, viaIdentify] = await Promise.all([
      openTestDatabase('node-postgres'),
      openTestDatabase('node-postgres'),
    ])
  })
  afterAll(async () => {
    await Promise.all([viaFile?.dispose(), viaIdentify?.dispose()])
  })

  test('leaves the same rows, links, times and blocklist as identify, order by order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 10 }),
        fc.array(order, { minLength: 1, maxLength: 14 }),
        // Identify calls that land while the backfill runs, after its plan and before its lock.
        fc.array(order, { maxLength: 3 }),
        async (history, orders, during) => {
          let clock = T0
          const clients = [viaFile, viaIdentify].map((database) =>
            createTestClient(database, { now: () => new Date(clock) }, { sharingLimits: LIMITS }),
          )
          for (const database of [viaFile, viaIdentify]) {
            await database.query(
              'truncate "Contact", "ContactEvent", "BlockedIdentifier", "ErasedIdentifier" restart identity',
            )
          }
          // The existing history, at minutes 3 to 10: some orders are older than it.
          for (const [index, request] of history.entries()) {
            clock = T0 + (3 + index) * 60_000
            for (const client of clients) {
              if ('block' in request) {
                const { status } = await client.json(
                  'POST',
                  '/api/blocked-identifiers',
                  request.block,
                )
                expect([201, 409]).toContain(status)
                continue
              }
              const { email, phoneNumber } = request
              const { status } = await client.identify({ email, phoneNumber })
              expect([200, 422]).toContain(status)
            }
          }
          const identifyDuring = async (client: (typeof clients)[number]) => {
            clock = T0 + 20 * 60_000
            for (const { email, phoneNumber } of during) {
              const { status } = await client.identify({ email, phoneNumber })
              expect([200, 422]).toContain(status)
            }
          }
          await runBackfill({
            url: viaFile.url as string,
            beforeLock: () => identifyDuring(clients[0] as (typeof clients)[number]),
            input: Readable.from([toCsv(orders)]),
            format: 'csv',
            dryRun: false,
            strict: true,
            guard: {
              matchKeys: DEFAULT_MATCH_KEYS,
              sharingLimits: LIMITS,
              erasureKey: DEVELOPMENT_ERASURE_KEY,
            },
          })
          const sorted = orders
            .map((o, index) => ({ ...o, index }))
            .sort((a, b) => a.minute - b.minute || a.index - b.index)
          const identify = clients[1] as (typeof clients)[number]
          // What the backfill must end as: those calls first, then the file, as identify.
          await identifyDuring(identify)
          for (const o of sorted) {
            clock = T0 + o.minute * 60_000
            const { status } = await identify.identify({
              email: o.email,
              phoneNumber: o.phoneNumber,
            })
            expect([200, 422]).toContain(status)
          }
          const [fileRows, identifyRows] = [
            await viaFile.query(TABLE),
            await viaIdentify.query(TABLE),
          ]
          // Calls made while the backfill ran took their ids after the ids it had reserved: the
          // customers must be the same, their ids may come in another order.
          if (during.length === 0) expect(fileRows).toEqual(identifyRows)
          else
            expect(toCustomerShape(fileRows as never)).toEqual(
              toCustomerShape(identifyRows as never),
            )
          expect(await viaFile.query(BLOCKED)).toEqual(await viaIdentify.query(BLOCKED))
          expect(await viaFile.query(PAIRS)).toEqual(await viaIdentify.query(PAIRS))
          expect((await checkIntegrity(viaFile)).violations).toEqual([])
          expect(await checkLedger(viaFile)).toEqual([])
          expect(
            await checkGuard(viaFile, {
              matchKeys: DEFAULT_MATCH_KEYS,
              erasureKey: DEVELOPMENT_ERASURE_KEY,
            }),
          ).toEqual([])
        },
      ),
      { numRuns: 60 },
    )
  }, 600_000)
})
