// GET /api/explain (lib/explain/) through every driver: chains of shared identifiers and recorded
// request pairs, pre-ledger links, and the answers for other customers, unknown ids and bad input.
import { beforeEach, describe, expect, test } from 'vitest'
import { ALL_DRIVERS, openTestDatabase, useTestDatabase } from './support/database.js'
import { createTestClient } from './support/http.js'

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)
  beforeEach(async () => {
    // The task statement's customers (1-2: Lorraine and Marty; 3-4: George and Biff), merged.
    for (const body of [
      { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' },
      { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
      { email: 'george@hillvalley.edu', phoneNumber: '919191' },
      { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
      { email: 'george@hillvalley.edu', phoneNumber: '717171' },
      { email: 'mcfly@hillvalley.edu', phoneNumber: '555' },
    ]) {
      expect((await suite.client.identify(body)).status).toBe(200)
    }
  })

  const explain = (query: string) =>
    suite.client.send({ method: 'GET', path: `/api/explain?${query}` })
  type Steps = { steps: { kind: string; from: number; to: number; text: string }[] }

  test('the merge that inserted no row is one recorded request pair', async () => {
    const { status, body } = await explain('from=4&to=3')
    expect(status).toBe(200)
    expect(body).toMatchObject({ from: 4, to: 3, customerId: 3 })
    const [step] = (body as Steps).steps
    expect(step).toMatchObject({
      kind: 'request-pair',
      from: 4,
      to: 3,
      email: 'george@hillvalley.edu',
      phoneNumber: '717171',
      requestId: expect.any(String),
    })
    expect(step?.text).toContain('merging customer 4 into customer 3')
  })

  test('a chain of two shared identifiers', async () => {
    const { status, body } = await explain('from=1&to=5')
    expect(status).toBe(200)
    expect((body as Steps).steps.map(({ kind, from, to }) => [from, kind, to])).toEqual([
      [1, 'shared-phone', 2],
      [2, 'shared-email', 5],
    ])
  })

  test('rows merged before the ledger are joined by their stored link', async () => {
    await suite.database.query(
      `insert into "Contact" ("email", "linkPrecedence", "createdAt") values ('x@x.io', 'primary', '2020-01-01')`,
    )
    await suite.database.query(
      `insert into "Contact" ("email", "linkedId", "linkPrecedence", "createdAt") values ('y@x.io', 6, 'secondary', '2020-01-02')`,
    )
    const { status, body } = await explain('from=7&to=6')
    expect(status).toBe(200)
    expect((body as Steps).steps.map((step) => step.kind)).toEqual(['recorded-link'])
  })

  test.each([
    ['contacts of different customers', 'from=1&to=3', 409, 'not_same_customer'],
    ['an unknown first contact', 'from=99&to=1', 404, 'not_found'],
    ['an unknown second contact', 'from=1&to=99', 404, 'not_found'],
    ['a malformed id', 'from=one&to=1', 400, 'invalid_request'],
    ['a missing id', 'from=1', 400, 'invalid_request'],
  ])('answers %s with %i %s', async (_, query, status, code) => {
    const answer = await explain(query)
    expect(answer.status).toBe(status)
    expect(answer.body).toMatchObject({ error: { code } })
  })
})

test('a customer of 2,000 rows is explained end to end', async () => {
  const database = await openTestDatabase('node-postgres')
  const client = createTestClient(database)
  // One shared phone, and each email also on the next row: a long customer with many paths.
  await database.query(`
    insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
    select 'e' || n || '@x.io', case when n % 2 = 0 then '0' else null end,
           case when n = 1 then null else 1 end,
           (case when n = 1 then 'primary' else 'secondary' end)::"LinkPrecedence",
           timestamp '2024-01-01' + n * interval '1 second'
    from generate_series(1, 2000) n`)
  const started = performance.now()
  const answer = await client.send({ method: 'GET', path: '/api/explain?from=2&to=2000' })
  console.log(`explain on 2,000 rows: ${(performance.now() - started).toFixed(1)} ms`)
  expect(answer.status).toBe(200)
  expect((answer.body as { steps: unknown[] }).steps).toHaveLength(1)
  await database.dispose()
})
