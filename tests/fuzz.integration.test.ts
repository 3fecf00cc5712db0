// Hostile input: 10,000 generated requests (arbitrary JSON and non-JSON bodies, huge strings,
// deep nesting, unicode edge cases, SQL-looking text, numbers of every kind, wrong content types,
// odd methods and paths) against the real app and database. (TRACE and CONNECT cannot be built
// as a Web Request; against the local server they get a 405 and nothing, respectively.) Never a 5xx; every rejection is a
// 4xx in the standard error shape and leaves the table byte-for-byte unchanged; every acceptance
// answers with its identifiers, and the table always holds exactly the customers they connect.
import fc from 'fast-check'
import { afterAll, beforeAll, expect, test } from 'vitest'
import {
  connectCustomers,
  findViolations,
  groupCustomers,
  readAllContacts,
} from '../harness/invariants.js'
import type { ModelRequest } from '../harness/union-find.js'
import { DEFAULT_MATCH_KEYS, toMatchKeys } from '../lib/guard/match-keys.js'
import { parseIdentifyRequest } from '../lib/identify/request.js'
import { openTestDatabase, type TestDatabase } from './support/database.js'
import { createTestClient } from './support/http.js'

const RUNS = 10_000

const sqlLooking = fc.constantFrom(
  '\'; drop table "Contact"; --',
  "a@b.io' or '1'='1",
  '1; select pg_sleep(10)',
  '$1',
  '\\x00',
  '%s%s%n',
)
const unicodeEdge = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\u202e',
  '\ufeff',
  'ß',
  'İ',
  '👩‍👩‍👧',
  'ａ@ｂ.io',
  'é@x.io',
)
const hugeString = fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'x'.repeat(n))
const plausibleEmail = fc
  .tuple(
    fc.constantFrom('ann', 'bob', 'cy', 'DEE', ' ed '),
    fc.constantFrom('@shop.test', '@SHOP.test', '@x.io'),
  )
  .map(([name, domain]) => `${name}${domain}`)
const plausiblePhone = fc.oneof(
  fc.constantFrom('123456', '+44 7000 123', '(555) 010-99', '555.0100', '+1-800'),
  fc.integer({ min: 0, max: 999_999 }),
)
const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 2 ** 53, 1e21, -1))
const fieldValue = (plausible: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: plausible },
    { weight: 1, arbitrary: fc.constantFrom(null, '', '   ', true, [], {}) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        sqlLooking,
        unicodeEdge,
        hugeString,
        anyNumber,
        fc.string(),
        fc.emailAddress(),
      ),
    },
  )
const identifyBody = fc
  .record(
    {
      email: fieldValue(plausibleEmail),
      phoneNumber: fieldValue(plausiblePhone),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((body) => JSON.stringify(body))

const body = fc.oneof(
  { weight: 8, arbitrary: identifyBody },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 1, arbitrary: fc.string() },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 100_000 })
      .map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: hugeString.map((text) => JSON.stringify({ email: 'a@x.io', text })) },
)
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/vnd.store+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      undefined,
    ),
  },
)
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constant('POST') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND'),
  },
)
const path = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('/identify', '/identity', '/api/identify', '/identify/'),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/',
      '/api/health',
      '/IDENTIFY',
      '/identify/1',
      '/%00',
      '/api/identify?x=1',
      '//identify',
    ),
  },
  { weight: 1, arbitrary: fc.webPath() },
)

const NO_SHARING_LIMITS = { maxEmailsPerPhone: 1e9, maxPhonesPerEmail: 1e9 }

let database: TestDatabase
beforeAll(async () => {
  database = await openTestDatabase('node-postgres')
})
afterAll(() => database.dispose())

const tableChecksum = async () => {
  const [row] = await database.query<{ sum: string | null }>(
    `select md5(string_agg(c::text, '|' order by c."id")) as sum from "Contact" c`,
  )
  return row?.sum ?? null
}

test(`${RUNS} hostile requests: no 5xx, rejections change nothing, acceptances follow the rules`, async () => {
  // No quarantine: the model below is a union-find of every accepted request, which knows the
  // built-in rules but not the sharing limits (tests/guard.property.test.ts models those).
  const client = createTestClient(database, {}, { sharingLimits: NO_SHARING_LIMITS })
  const accepted: ModelRequest[] = []
  let rejected = 0
  let sawHealth = 0

  await fc.assert(
    fc.asyncProperty(method, path, contentType, body, async (method, path, contentType, body) => {
      const hasBody = method !== 'GET' && method !== 'HEAD'
      const before = await tableChecksum()
      const response = await client.send({
        method,
        path,
        ...(contentType === undefined ? {} : { headers: { 'content-type': contentType } }),
        ...(hasBody ? { body } : {}),
      })
      expect(response.status).toBeLessThan(500)
      if (path.startsWith('/api/health')) {
        sawHealth++
        return
      }
      if (
        response.status === 200 &&
        method === 'POST' &&
        (response.body as { contact?: unknown })?.contact
      ) {
        const parsed = parseIdentifyRequest(JSON.parse(typeof body === 'string' ? body : ''))
        if (!parsed.ok)
          throw new Error(
            `accepted a body its own parser rejects: ${JSON.stringify(body).slice(0, 200)}`,
          )
        const { emails, phoneNumbers } = (
          response.body as { contact: { emails: string[]; phoneNumbers: string[] } }
        ).contact
        if (parsed.identifiers.email !== null) expect(emails).toContain(parsed.identifiers.email)
        if (parsed.identifiers.phoneNumber !== null)
          expect(phoneNumbers).toContain(parsed.identifiers.phoneNumber)
        accepted.push({
          ...parsed.identifiers,
          ...toMatchKeys(parsed.identifiers, DEFAULT_MATCH_KEYS),
        })
        return
      }
      // The overview page.
      if (response.status === 200 && response.headers.get('content-type')?.startsWith('text/html'))
        return
      rejected++
      expect(response.status).toBeGreaterThanOrEqual(400)
      const error = (response.body as { error?: Record<string, unknown> } | null)?.error
      expect(error).toMatchObject({ code: expect.any(String), message: expect.any(String) })
      expect(
        Object.keys(error ?? {}).every((key) => ['code', 'message', 'issues'].includes(key)),
      ).toBe(true)
      expect(await tableChecksum()).toBe(before)
    }),
    { numRuns: RUNS, seed: 20261125 },
  )

  const rows = await readAllContacts(database)
  expect(findViolations(rows)).toEqual([])
  expect(groupCustomers(rows)).toEqual(connectCustomers(accepted))
  console.log(
    JSON.stringify({
      runs: RUNS,
      accepted: accepted.length,
      rejected,
      health: sawHealth,
      rows: rows.length,
    }),
  )
  expect(accepted.length).toBeGreaterThan(RUNS / 10)
  expect(rejected).toBeGreaterThan(RUNS / 10)
}, 300_000)
