// GET /api/customers (lib/lookup/) through every driver: found by email, phone number or any
// contact id (an absorbed primary's too), normalised as identify normalises, in one statement,
// never writing; bad queries are 400 and unknown customers 404.
import { beforeEach, describe, expect, test } from 'vitest'
import { composeService } from '../lib/compose.js'
import { toAuthMode } from '../lib/http/auth.js'
import { ALL_DRIVERS, openTestDatabase, useTestDatabase } from './support/database.js'
import { captureLogs } from './support/http.js'

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)
  beforeEach(async () => {
    // The task statement's two customers, then the request that merges them.
    for (const body of [
      { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' },
      { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
      { email: 'george@hillvalley.edu', phoneNumber: '919191' },
      { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
      { email: 'george@hillvalley.edu', phoneNumber: '717171' },
    ]) {
      expect((await suite.client.identify(body)).status).toBe(200)
    }
  })

  const lookUp = (path: string) => suite.client.send({ method: 'GET', path })
  const george = {
    primaryContactId: 3,
    emails: ['george@hillvalley.edu', 'biffsucks@hillvalley.edu'],
    phoneNumbers: ['919191', '717171'],
    secondaryContactIds: [4],
  }

  test.each([
    ['an email, normalised as identify does', '/api/customers?email=%20George@HillValley.edu%20'],
    ['a phone number, normalised as identify does', '/api/customers?phoneNumber=71-71-71'],
    ['the contact id of its primary', '/api/customers?contactId=3'],
    ['the id of the primary a merge absorbed, in the path', '/api/customers/4'],
  ])('finds the customer by %s', async (_, path) => {
    const { status, body } = await lookUp(path)
    expect(status).toBe(200)
    expect(body).toMatchObject({ contact: george })
    const contacts = (body as { contacts: { id: number; linkedId: number | null }[] }).contacts
    expect(contacts.map(({ id, linkedId }) => ({ id, linkedId }))).toEqual([
      { id: 3, linkedId: null },
      { id: 4, linkedId: 3 },
    ])
  })

  test('answers exactly what identify answers for the same customer', async () => {
    const looked = await lookUp('/api/customers?phoneNumber=123456')
    const identified = await suite.client.identify({ phoneNumber: '123456' })
    expect((looked.body as { contact: unknown }).contact).toEqual(
      (identified.body as { contact: unknown }).contact,
    )
  })

  test.each([
    ['an unknown email', '/api/customers?email=nobody@x.io'],
    ['an unknown contact id', '/api/customers/999'],
  ])('is 404 for %s', async (_, path) => {
    const { status, body } = await lookUp(path)
    expect(status).toBe(404)
    expect(body).toMatchObject({ error: { code: 'not_found' } })
  })

  test.each([
    ['no parameter', '/api/customers', ''],
    ['two parameters', '/api/customers?email=a@x.io&phoneNumber=1', ''],
    ['a malformed contact id', '/api/customers/abc', 'contactId'],
    ['contact id 0', '/api/customers?contactId=0', 'contactId'],
    ['a contact id past the column', '/api/customers?contactId=99999999999', 'contactId'],
    ['an unknown parameter', '/api/customers?name=george', 'name'],
    ['a malformed email', '/api/customers?email=george', 'email'],
  ])('is 400 naming the problem for %s', async (_, path, field) => {
    const { status, body } = await lookUp(path)
    expect(status).toBe(400)
    const issues = (body as { error: { code: string; issues: { path: string }[] } }).error
    expect(issues.code).toBe('invalid_request')
    expect(issues.issues.map((issue) => issue.path)).toContain(field)
  })

  test('never writes, and costs two round trips: the customer, then its evidence', async () => {
    const count = async () =>
      suite.database.query<{ rows: string }>(
        'select (select count(*) from "Contact") || \':\' || (select count(*) from "ContactEvent") as rows',
      )
    const before = await count()
    suite.database.wire?.reset()
    await lookUp('/api/customers?email=george@hillvalley.edu')
    await lookUp('/api/customers/4')
    if (suite.database.wire !== null) expect(suite.database.wire.roundTrips()).toBe(4)
    expect(await count()).toEqual(before)
  })
})

test("the admin API takes only admin keys, and identify only the checkout's", async () => {
  const database = await openTestDatabase('node-postgres')
  const logger = captureLogs()
  const { app } = composeService({
    database: async () => database,
    identifyAuth: toAuthMode('checkout-key', 'production'),
    adminAuth: toAuthMode('admin-key', 'production', 'ADMIN_API_KEYS'),
    logger,
  })
  const send = async (path: string, key: string, body?: unknown) =>
    (
      await app(
        new Request(`http://store.test${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      )
    ).status
  expect(await send('/identify', 'checkout-key', { email: 'a@x.io' })).toBe(200)
  expect(await send('/identify', 'admin-key', { email: 'a@x.io' })).toBe(401)
  expect(await send('/api/customers?email=a@x.io', 'checkout-key')).toBe(401)
  expect(await send('/api/customers?email=a@x.io', 'admin-key')).toBe(200)
  expect(logger.lines).toContainEqual({ msg: 'admin access', mode: 'API keys' })

  const refusing = composeService({
    database: async () => database,
    identifyAuth: toAuthMode('checkout-key', 'production'),
    adminAuth: toAuthMode(undefined, 'production', 'ADMIN_API_KEYS'),
    logger,
  })
  const refused = await refusing.customers(
    new Request('http://store.test/api/customers?contactId=1'),
  )
  expect(refused.status).toBe(503)
  expect(await refused.json()).toMatchObject({
    error: { code: 'not_configured', message: expect.stringContaining('ADMIN_API_KEYS') },
  })
  await database.dispose()
})
