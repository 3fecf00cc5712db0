// GET /api/events (lib/ledger/feed.ts) through every driver: stable order, paging by cursor, bounds
// and bad input, no personal data; and, on the server drivers, no event missed or repeated when two
// transactions commit in the opposite order to the one in which they began.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  ALL_DRIVERS,
  openTestDatabase,
  SERVER_DRIVERS,
  type TestDatabase,
  useTestDatabase,
} from './support/database.js'
import { createTestClient } from './support/http.js'

type Feed = { events: { id: string; kind: string; customerId: number }[]; next: string }

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)

  const read = async (query = '') => {
    const { status, body } = await suite.client.send({ method: 'GET', path: `/api/events${query}` })
    expect(status, JSON.stringify(body)).toBe(200)
    return body as Feed
  }
  const story = async () => {
    for (const body of [
      { email: 'george@hillvalley.edu', phoneNumber: '919191' },
      { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
      { email: 'george@hillvalley.edu', phoneNumber: '717171' },
      { email: 'lorraine@hillvalley.edu', phoneNumber: '717171' },
    ]) {
      expect((await suite.client.identify(body)).status).toBe(200)
    }
  }

  test('the events come in the order the changes were made, with ids and kinds only', async () => {
    await story()
    const feed = await read()
    expect(feed.events.map(({ id, kind, customerId }) => [id, kind, customerId])).toEqual([
      ['evt_1', 'customer_created', 1],
      ['evt_2', 'customer_created', 2],
      ['evt_3', 'customers_merged', 1],
      ['evt_4', 'contact_linked', 1],
    ])
    expect(feed.next).toBe((feed.events.at(-1) as unknown as { cursor: string }).cursor)
    const published = JSON.stringify(feed)
    for (const identifier of ['hillvalley', '919191', '717171']) {
      expect(published).not.toContain(identifier)
    }
  })

  test('following next pages through every event once, then stays put', async () => {
    await story()
    const seen: string[] = []
    let after = ''
    for (let page = 0; page < 10; page++) {
      const feed = await read(`?limit=3${after === '' ? '' : `&after=${after}`}`)
      seen.push(...feed.events.map((event) => event.id))
      if (feed.events.length === 0) {
        expect(feed.next).toBe(after)
        break
      }
      after = feed.next
    }
    expect(seen).toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4'])
  })

  test.each([
    ['a malformed cursor', '?after=page2', 'after'],
    ['a limit of 0', '?limit=0', 'limit'],
    ['a limit over 1000', '?limit=1001', 'limit'],
    ['an unknown parameter', '?since=1', 'since'],
  ])('is 400 naming the problem for %s', async (_, query, field) => {
    const { status, body } = await suite.client.send({ method: 'GET', path: `/api/events${query}` })
    expect(status).toBe(400)
    const { error } = body as { error: { code: string; issues: { path: string }[] } }
    expect(error.code).toBe('invalid_request')
    expect(error.issues.map((issue) => issue.path)).toContain(field)
  })
})

describe.each(SERVER_DRIVERS)('on %s, with transactions that commit out of order', (driver) => {
  let database: TestDatabase
  let client: ReturnType<typeof createTestClient>
  beforeAll(async () => {
    database = await openTestDatabase(driver)
    client = createTestClient(database)
  })
  afterAll(() => database.dispose())

  test('an event is published only once every transaction that began before it has ended', async () => {
    const insert = `insert into "ContactEvent" ("kind", "primaryId", "contactIds", "absorbedIds", "createdAt")
                    values ('customer_created', $1, array[$1::integer], '{}', now()) returning "id"`
    const [first, second] = [
      new pg.Client({ connectionString: database.url ?? '' }),
      new pg.Client({ connectionString: database.url ?? '' }),
    ]
    await first.connect()
    await second.connect()
    try {
      // A begins and writes event 1; B begins after, writes event 2 and commits first.
      await first.query('begin')
      await first.query(insert, [101])
      await second.query('begin')
      await second.query(insert, [102])
      await second.query('commit')

      const consumer = await client.send({ method: 'GET', path: '/api/events' })
      const early = consumer.body as Feed
      // B's event waits for A, which may still commit an event that sorts before it.
      expect(early.events).toEqual([])

      await first.query('commit')
      const late = (await client.send({ method: 'GET', path: `/api/events?after=${early.next}` }))
        .body as Feed
      expect(late.events.map((event) => event.customerId)).toEqual([101, 102])
    } finally {
      await first.end()
      await second.end()
    }
  })
})
