// The shared integration suite: the same HTTP scenarios against a real PostgreSQL through every
// driver the service supports (node-postgres, Neon's HTTP driver via a local proxy, PGlite).
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  connectCustomers,
  findViolations,
  groupCustomers,
  readAllContacts,
} from '../harness/invariants.js'
import type { Identifiers } from '../lib/core/contact.js'
import {
  ALL_DRIVERS,
  openTestDatabase,
  SERVER_DRIVERS,
  type TestDatabase,
} from './support/database.js'
import { createTestClient } from './support/http.js'

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  let database: TestDatabase
  let client: ReturnType<typeof createTestClient>

  beforeAll(async () => {
    database = await openTestDatabase(driver)
    client = createTestClient(database)
  })
  afterAll(() => database.dispose())
  beforeEach(async () => {
    await database.query('truncate "Contact", "ContactEvent" restart identity')
    client.logger.lines.length = 0
  })

  const contactOf = async (body: unknown) => {
    const { status, body: answer } = await client.identify(body)
    expect(status, JSON.stringify(answer)).toBe(200)
    return (answer as { contact: unknown }).contact
  }

  describe('linking rules', () => {
    test.each<[string, Identifiers[], unknown, number]>([
      [
        'rule 2: an unknown customer becomes a primary row',
        [{ email: 'doc@hill.edu', phoneNumber: '555' }],
        {
          primaryContactId: 1,
          emails: ['doc@hill.edu'],
          phoneNumbers: ['555'],
          secondaryContactIds: [],
        },
        1,
      ],
      [
        'rule 4: a new email for a known phone adds one secondary',
        [
          { email: 'doc@hill.edu', phoneNumber: '555' },
          { email: 'emmett@hill.edu', phoneNumber: '555' },
        ],
        {
          primaryContactId: 1,
          emails: ['doc@hill.edu', 'emmett@hill.edu'],
          phoneNumbers: ['555'],
          secondaryContactIds: [2],
        },
        2,
      ],
      [
        'rule 4: known identifiers add nothing',
        [
          { email: 'doc@hill.edu', phoneNumber: '555' },
          { email: 'emmett@hill.edu', phoneNumber: '555' },
          { email: 'doc@hill.edu', phoneNumber: null },
          { email: 'emmett@hill.edu', phoneNumber: '555' },
        ],
        {
          primaryContactId: 1,
          emails: ['doc@hill.edu', 'emmett@hill.edu'],
          phoneNumbers: ['555'],
          secondaryContactIds: [2],
        },
        2,
      ],
      [
        'rule 3: an email of one customer and a phone of another merge them under the older primary',
        [
          { email: 'george@hill.edu', phoneNumber: '919191' },
          { email: 'biff@hill.edu', phoneNumber: '717171' },
          { email: 'biff2@hill.edu', phoneNumber: '717171' },
          { email: 'george@hill.edu', phoneNumber: '717171' },
        ],
        {
          primaryContactId: 1,
          emails: ['george@hill.edu', 'biff@hill.edu', 'biff2@hill.edu'],
          phoneNumbers: ['919191', '717171'],
          secondaryContactIds: [2, 3],
        },
        3,
      ],
      [
        'rule 3: a merge brought by a new row links it too',
        [
          { email: 'a@x.io', phoneNumber: null },
          { email: null, phoneNumber: '1' },
          { email: 'b@x.io', phoneNumber: '1' },
          { email: 'a@x.io', phoneNumber: '1' },
        ],
        {
          primaryContactId: 1,
          emails: ['a@x.io', 'b@x.io'],
          phoneNumbers: ['1'],
          secondaryContactIds: [2, 3],
        },
        3,
      ],
    ])('%s', async (_, requests, expected, rowCount) => {
      let answer: unknown
      for (const request of requests) answer = await contactOf(request)
      expect(answer).toEqual(expected)
      const rows = await readAllContacts(database)
      expect(rows).toHaveLength(rowCount)
      expect(findViolations(rows)).toEqual([])
      expect(groupCustomers(rows)).toEqual(connectCustomers(requests))
    })

    test('rule 3: only rows whose link changes get a new updatedAt', async () => {
      await contactOf({ email: 'a@x.io', phoneNumber: '1' })
      await contactOf({ email: 'b@x.io', phoneNumber: '2' })
      await contactOf({ email: 'c@x.io', phoneNumber: '2' })
      const before = await readAllContacts(database)
      await contactOf({ email: 'a@x.io', phoneNumber: '2' })
      const after = await readAllContacts(database)
      const changed = after
        .filter((row, i) => +row.updatedAt !== +(before[i]?.updatedAt ?? 0))
        .map((row) => row.id)
      expect(changed).toEqual([2, 3])
      expect(
        after.map(({ id, linkedId, linkPrecedence }) => ({ id, linkedId, linkPrecedence })),
      ).toEqual([
        { id: 1, linkedId: null, linkPrecedence: 'primary' },
        { id: 2, linkedId: 1, linkPrecedence: 'secondary' },
        { id: 3, linkedId: 1, linkPrecedence: 'secondary' },
      ])
    })

    test('rule 5: chains and orphans left by older services are followed and flattened', async () => {
      await database.query(`
        insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt", "deletedAt") overriding system value values
          (1, 'root@x.io', '1', null, 'primary', '2024-01-01', '2024-01-01', null),
          (2, 'mid@x.io', '2', 1, 'secondary', '2024-01-02', '2024-01-02', null),
          (3, 'leaf@x.io', '3', 2, 'secondary', '2024-01-03', '2024-01-03', null),
          (4, 'gone@x.io', '4', null, 'primary', '2024-01-04', '2024-01-04', '2024-02-01'),
          (5, 'orphan@x.io', '5', 4, 'secondary', '2024-01-05', '2024-01-05', null),
          (6, 'orphan-child@x.io', '6', 5, 'secondary', '2024-01-06', '2024-01-06', null)`)
      await database.query(`select setval('"Contact_id_seq"', 6)`)

      expect(await contactOf({ email: 'leaf@x.io', phoneNumber: null })).toEqual({
        primaryContactId: 1,
        emails: ['root@x.io', 'mid@x.io', 'leaf@x.io'],
        phoneNumbers: ['1', '2', '3'],
        secondaryContactIds: [2, 3],
      })
      expect(await contactOf({ email: 'orphan-child@x.io', phoneNumber: null })).toEqual({
        primaryContactId: 5,
        emails: ['orphan@x.io', 'orphan-child@x.io'],
        phoneNumbers: ['5', '6'],
        secondaryContactIds: [6],
      })
      const rows = await readAllContacts(database)
      expect(rows.map((row) => [row.id, row.linkedId])).toEqual([
        [1, null],
        [2, 1],
        [3, 1],
        [4, null],
        [5, null],
        [6, 5],
      ])
      expect(findViolations(rows)).toEqual([])
    })

    test('deleted rows are ignored: their identifiers start a new customer', async () => {
      await contactOf({ email: 'a@x.io', phoneNumber: '1' })
      await database.query(`update "Contact" set "deletedAt" = now()`)
      expect(await contactOf({ email: 'a@x.io', phoneNumber: '1' })).toMatchObject({
        primaryContactId: 2,
        secondaryContactIds: [],
      })
    })
  })

  test("reproduces the task statement's worked example", async () => {
    await database.query(`
      insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt") overriding system value values
        (1, 'lorraine@hillvalley.edu', '123456', null, 'primary', '2024-04-01 00:00:00.374+00', '2024-04-01 00:00:00.374+00'),
        (23, 'mcfly@hillvalley.edu', '123456', 1, 'secondary', '2024-04-20 05:30:00.11+00', '2024-04-20 05:30:00.11+00')`)
    const expected = {
      primaryContactId: 1,
      emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
      phoneNumbers: ['123456'],
      secondaryContactIds: [23],
    }
    for (const body of [
      { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
      { email: 'mcfly@hillvalley.edu', phoneNumber: 123456 },
      { email: null, phoneNumber: '123456' },
      { email: 'lorraine@hillvalley.edu' },
      { email: 'mcfly@hillvalley.edu' },
    ]) {
      expect(await contactOf(body)).toEqual(expected)
    }
    expect(await readAllContacts(database)).toHaveLength(2)
  })

  test('replaying every request leaves the table unchanged and answers the same', async () => {
    const requests = [
      { email: 'a@x.io', phoneNumber: '1' },
      { email: 'b@x.io', phoneNumber: '2' },
      { email: 'a@x.io', phoneNumber: '3' },
      { email: 'c@x.io', phoneNumber: '2' },
      { email: 'c@x.io', phoneNumber: '1' },
    ]
    for (const request of requests) await contactOf(request)
    const table = await readAllContacts(database)
    const answers = []
    for (const request of requests) answers.push(await contactOf(request))
    for (const request of requests)
      expect(await contactOf(request)).toEqual(answers[requests.indexOf(request)])
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1)
    expect(await readAllContacts(database)).toEqual(table)
  })

  test.each(['/identify', '/identity', '/api/identify'])('answers on %s', async (path) => {
    const { status, body } = await client.identify({ email: 'a@x.io' }, path)
    expect(status).toBe(200)
    expect(body).toEqual({
      contact: {
        primaryContactId: 1,
        emails: ['a@x.io'],
        phoneNumbers: [],
        secondaryContactIds: [],
      },
    })
  })

  describe('bad input is a 4xx naming the problem and writes nothing', () => {
    const json = { 'content-type': 'application/json' }
    test.each<[string, RequestInit & { path?: string }, number, string, string | undefined]>([
      [
        'malformed JSON',
        { method: 'POST', headers: json, body: '{"email": ' },
        400,
        'invalid_json',
        undefined,
      ],
      ['a JSON array', { method: 'POST', headers: json, body: '[]' }, 400, 'invalid_request', ''],
      [
        'no identifier',
        { method: 'POST', headers: json, body: '{"orderId": 7}' },
        400,
        'invalid_request',
        '',
      ],
      [
        'a bad email',
        { method: 'POST', headers: json, body: '{"email": "nope"}' },
        400,
        'invalid_request',
        'email',
      ],
      [
        'a bad phone',
        { method: 'POST', headers: json, body: '{"email": "a@x.io", "phoneNumber": "12ab"}' },
        400,
        'invalid_request',
        'phoneNumber',
      ],
      [
        'a body over 16 KiB',
        {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ email: 'a@x.io', pad: 'x'.repeat(17_000) }),
        },
        413,
        'payload_too_large',
        undefined,
      ],
      [
        'a form body',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'email=a@x.io',
        },
        415,
        'unsupported_media_type',
        undefined,
      ],
      ['a GET', { method: 'GET' }, 405, 'method_not_allowed', undefined],
      [
        'an unknown path',
        { method: 'POST', headers: json, body: '{"email": "a@x.io"}', path: '/contacts' },
        404,
        'not_found',
        undefined,
      ],
    ])('%s', async (_, init, status, code, issuePath) => {
      const response = await client.send(init)
      expect(response.status).toBe(status)
      expect(response.body).toMatchObject({ error: { code, message: expect.any(String) } })
      if (issuePath !== undefined) {
        expect(
          (response.body as { error: { issues: { path: string }[] } }).error.issues,
        ).toContainEqual(expect.objectContaining({ path: issuePath }))
      }
      if (status === 405) expect(response.headers.get('allow')).toBe('POST')
      expect(await readAllContacts(database)).toEqual([])
    })
  })

  test.runIf(SERVER_DRIVERS.includes(driver))(
    'round trips: a request that writes nothing costs one read; one that writes adds one transaction',
    async () => {
      const wire = database.wire
      if (wire === null) throw new Error('server drivers have a wire')
      const cost = async (body: unknown) => {
        wire.reset()
        await contactOf(body)
        return { roundTrips: wire.roundTrips(), statements: [...wire.statements()] }
      }
      const created = await cost({ email: 'a@x.io', phoneNumber: '1' })
      const unchanged = await cost({ email: 'a@x.io', phoneNumber: '1' })
      const linked = await cost({ email: 'b@x.io', phoneNumber: '1' })
      await contactOf({ email: 'c@x.io', phoneNumber: '2' })
      const merged = await cost({ email: 'a@x.io', phoneNumber: '2' })
      // Each change was recorded in the ledger within those same round trips.
      const events = await database.query<{ kind: string }>(
        'select "kind" from "ContactEvent" order by "id"',
      )
      expect(events.map((event) => event.kind)).toEqual([
        'customer_created',
        'contact_linked',
        'customer_created',
        'customers_merged',
      ])
      if (driver === 'neon-http') {
        // One HTTP request to read, one batch to write (each a batch behind `set local jit = off`).
        expect([created, unchanged, linked, merged].map((c) => c.roundTrips)).toEqual([2, 1, 2, 2])
      } else {
        // A connection turns JIT off for its session when it opens, pipelined with its first
        // query (lib/db/node-postgres.ts). A read is then one statement. Writing is one
        // transaction: begin, turning JIT off and bounding its statements by the time the
        // request's deadline leaves, in one message; then lock, check, the writes and the ledger
        // in one pipeline; then commit once they all succeeded.
        const begin = expect.stringMatching(
          /^begin isolation level read committed; set local jit = off; set local statement_timeout = \d+$/,
        )
        const read = [expect.stringMatching(/^select .* from "Contact"/s)]
        const sent = (statements: string[]) => statements.filter((s) => s !== 'set jit = off')
        expect(sent(unchanged.statements)).toEqual(read)
        for (const { statements: all } of [created, linked, merged]) {
          const statements = sent(all)
          expect(statements.slice(0, 1)).toEqual(read)
          expect(statements[1]).toEqual(begin)
          expect(statements[2]).toMatch(/contact_lock_cluster/)
          expect(statements[3]).toMatch(/contact_assert_cluster_version/)
          expect(statements.at(-2)).toMatch(/^insert into "ContactEvent"/)
          expect(statements.at(-1)).toBe('commit')
          expect(
            statements.filter((s) => /^begin/.test(s)),
            JSON.stringify(statements),
          ).toHaveLength(1)
        }
        expect([created, unchanged, linked, merged].map((c) => c.roundTrips)).toEqual([4, 1, 4, 4])
      }
    },
  )
})

test('a body stream that breaks mid-read is a 400, not a crash', async () => {
  const database = await openTestDatabase('node-postgres')
  const client = createTestClient(database)
  const broken = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"email": "a@'))
      controller.error(new Error('client went away'))
    },
  })
  const response = await client.app(
    new Request('http://store.test/identify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: broken,
      duplex: 'half',
    } as RequestInit),
  )
  expect(response.status).toBe(400)
  expect(await response.json()).toEqual({
    error: { code: 'invalid_body', message: 'The request body could not be read' },
  })
  await database.dispose()
})
