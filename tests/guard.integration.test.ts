// The guard (lib/guard/) through every driver: blocked values never link, shared values are
// quarantined, a block splits what it held together, an unblock joins it again, and erasure
// removes a value (or a customer) from every table that held it.
import { describe, expect, test } from 'vitest'
import { findViolations, readAllContacts } from '../harness/invariants.js'
import { toErasureHash } from '../lib/guard/writes.js'
import { ALL_DRIVERS, useTestDatabase } from './support/database.js'
import { createTestClient } from './support/http.js'

type Customer = {
  contact: {
    primaryContactId: number
    emails: string[]
    phoneNumbers: string[]
    secondaryContactIds: number[]
  }
}

const DEV_ERASURE_KEY = 'development-erasure-key-not-secret'

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)
  const customerOf = async (query: string) => {
    const { status, body } = await suite.client.send({
      method: 'GET',
      path: `/api/customers?${query}`,
    })
    return status === 200 ? (body as Customer).contact : null
  }
  const count = async (table: string) =>
    Number(
      (await suite.database.query<{ n: number }>(`select count(*)::int as n from "${table}"`))[0]
        ?.n,
    )
  const expectIntact = async () =>
    expect(findViolations(await readAllContacts(suite.database), await readBlocked())).toEqual([])
  const readBlocked = async () =>
    new Set(
      (
        await suite.database.query<{ kind: string; key: string }>(
          'select "kind", "key" from "BlockedIdentifier"',
        )
      ).map((row) => `${row.kind === 'email' ? 'email' : 'phone'}:${row.key}`),
    )

  describe('built-in rules', () => {
    test('one placeholder phone and distinct emails stay distinct customers, each answer its own', async () => {
      for (let n = 0; n < 30; n++) {
        const { status, body } = await suite.client.identify({
          email: `shopper${n}@x.io`,
          phoneNumber: '0000000000',
        })
        expect(status).toBe(200)
        expect((body as Customer).contact).toMatchObject({
          emails: [`shopper${n}@x.io`],
          phoneNumbers: ['0000000000'],
          secondaryContactIds: [],
        })
      }
      expect(await count('Contact')).toBe(30)
      await expectIntact()
    })

    test.each([
      ['a phone of zeros alone', { phoneNumber: '000-000-0000' }],
      ['a placeholder word in both fields', { email: 'N/A', phoneNumber: 'unknown' }],
      ['a no-reply mailbox alone', { email: 'noreply@store.com' }],
    ])('%s is 422 unlinkable_identifier and writes nothing', async (_, body) => {
      const { status, body: answer } = await suite.client.identify(body)
      expect(status).toBe(422)
      expect(answer).toMatchObject({ error: { code: 'unlinkable_identifier' } })
      expect(await count('Contact')).toBe(0)
    })

    test('a blocked value beside a usable one links through the usable one and is stored', async () => {
      await suite.client.identify({ email: 'ada@x.io', phoneNumber: '111' })
      const { body } = await suite.client.identify({ email: 'ada@x.io', phoneNumber: 'none' })
      expect((body as Customer).contact).toMatchObject({
        primaryContactId: 1,
        emails: ['ada@x.io'],
        phoneNumbers: ['111', 'none'],
      })
      // Nothing else joins through it.
      const other = await suite.client.identify({ email: 'bob@x.io', phoneNumber: 'none' })
      expect((other.body as Customer).contact.primaryContactId).toBe(3)
    })

    test.each([['123456'], ['111'], ['+1111111111']])(
      'ordinary short or repetitive number %s still links',
      async (phoneNumber) => {
        await suite.client.identify({ email: 'a@example.com', phoneNumber })
        const { body } = await suite.client.identify({ email: 'b@shop.test', phoneNumber })
        expect((body as Customer).contact.emails).toEqual(['a@example.com', 'b@shop.test'])
      },
    )
  })

  describe('the store blocklist', () => {
    // Two shoppers joined only by the store's own support phone, and a third by email.
    const seedShared = async () => {
      await suite.client.identify({ email: 'ann@x.io', phoneNumber: '5550100' })
      await suite.client.identify({ email: 'bea@x.io', phoneNumber: '5550100' })
      await suite.client.identify({ email: 'bea@x.io', phoneNumber: '777' })
    }

    test('a dry run answers the split and changes nothing', async () => {
      await seedShared()
      const before = await readAllContacts(suite.database)
      const { status, body } = await suite.client.json(
        'POST',
        '/api/blocked-identifiers?dryRun=true',
        { phoneNumber: '555-0100' },
      )
      expect(status).toBe(200)
      expect(body).toMatchObject({
        dryRun: true,
        blocked: { kind: 'phoneNumber', value: '5550100', reason: 'store' },
        splits: [{ primaryContactId: 1, into: [1, 2] }],
      })
      expect(await readAllContacts(suite.database)).toEqual(before)
      expect(await count('BlockedIdentifier')).toBe(0)
    })

    test('a block splits the customer, records it, and no later request joins through it', async () => {
      await seedShared()
      const { status, body } = await suite.client.json('POST', '/api/blocked-identifiers', {
        phoneNumber: '5550100',
      })
      expect(status).toBe(201)
      expect(body).toMatchObject({ dryRun: false, splits: [{ primaryContactId: 1, into: [1, 2] }] })
      expect(await customerOf('email=ann@x.io')).toMatchObject({
        primaryContactId: 1,
        secondaryContactIds: [],
      })
      expect(await customerOf('email=bea@x.io')).toMatchObject({
        primaryContactId: 2,
        emails: ['bea@x.io'],
        phoneNumbers: ['5550100', '777'],
        secondaryContactIds: [3],
      })
      const late = await suite.client.identify({ email: 'cat@x.io', phoneNumber: '5550100' })
      expect((late.body as Customer).contact).toMatchObject({
        emails: ['cat@x.io'],
        secondaryContactIds: [],
      })
      const kinds = (
        await suite.database.query<{ kind: string }>(
          'select "kind" from "ContactEvent" order by "id"',
        )
      ).map((row) => row.kind)
      expect(kinds).toEqual(expect.arrayContaining(['identifier_blocked', 'customer_split']))
      const listed = await suite.client.send({ method: 'GET', path: '/api/blocked-identifiers' })
      expect(listed.body).toMatchObject({
        blocked: [{ kind: 'phoneNumber', value: '5550100', reason: 'store' }],
      })
      await expectIntact()
    })

    test('the admin lookup marks blocked values and lists the request pairs that join a customer', async () => {
      await suite.client.identify({ email: 'ann@x.io', phoneNumber: '0000000000' })
      await suite.client.identify({ email: 'kim@x.io', phoneNumber: '4343' })
      await suite.client.identify({ email: 'ann@x.io', phoneNumber: '4343' }) // a merge, no row
      const { body } = await suite.client.send({ method: 'GET', path: '/api/customers/1' })
      expect(body).toMatchObject({
        contacts: [
          { id: 1, emailBlocked: false, phoneNumberBlocked: true },
          { id: 2, emailBlocked: false, phoneNumberBlocked: false },
        ],
        pairs: [{ email: 'ann@x.io', phoneNumber: '4343', at: expect.any(String) }],
      })
    })

    test('a lookup by a blocked value is 409 blocked_identifier: it names no one customer', async () => {
      await suite.client.identify({ email: 'ann@x.io', phoneNumber: '0000000000' })
      await suite.client.identify({ email: 'bob@x.io', phoneNumber: '5550100' })
      await suite.client.json('POST', '/api/blocked-identifiers', { phoneNumber: '5550100' })
      for (const phone of ['0000000000', '5550100']) {
        const { status, body } = await suite.client.send({
          method: 'GET',
          path: `/api/customers?phoneNumber=${phone}`,
        })
        expect(status).toBe(409)
        expect(body).toMatchObject({ error: { code: 'blocked_identifier' } })
      }
      expect(await customerOf('email=bob@x.io')).toMatchObject({ phoneNumbers: ['5550100'] })
    })

    test('blocking twice is 409, a built-in value is 409, unblocking an unknown one 404', async () => {
      await suite.client.json('POST', '/api/blocked-identifiers', { email: 'desk@store.com' })
      const again = await suite.client.json('POST', '/api/blocked-identifiers', {
        email: 'Desk@Store.com',
      })
      expect(again.status).toBe(409)
      expect(again.body).toMatchObject({ error: { code: 'already_blocked' } })
      const builtIn = await suite.client.json('POST', '/api/blocked-identifiers', {
        phoneNumber: '0000',
      })
      expect(builtIn.body).toMatchObject({ error: { code: 'built_in' } })
      const unknown = await suite.client.json('DELETE', '/api/blocked-identifiers', {
        email: 'x@y.io',
      })
      expect(unknown.status).toBe(404)
      expect(unknown.body).toMatchObject({ error: { code: 'not_blocked' } })
    })

    test('an unblock joins again the customers the value links', async () => {
      await seedShared()
      await suite.client.json('POST', '/api/blocked-identifiers', { phoneNumber: '5550100' })
      const { status, body } = await suite.client.json('DELETE', '/api/blocked-identifiers', {
        phoneNumber: '5550100',
      })
      expect(status).toBe(200)
      expect(body).toMatchObject({ merges: [{ primaryContactId: 1, absorbed: [2] }] })
      expect(await customerOf('email=bea@x.io')).toMatchObject({
        primaryContactId: 1,
        secondaryContactIds: [2, 3],
      })
      await expectIntact()
    })

    test.each([
      ['both fields', { email: 'a@x.io', phoneNumber: '1' }],
      ['neither field', {}],
      ['an unknown field', { email: 'a@x.io', name: 'Ann' }],
      ['a malformed email', { email: 'not an email' }],
    ])('a body with %s is 400 and changes nothing', async (_, body) => {
      const { status, body: answer } = await suite.client.json(
        'POST',
        '/api/blocked-identifiers',
        body,
      )
      expect(status).toBe(400)
      expect(answer).toMatchObject({ error: { code: 'invalid_request' } })
      expect(await count('BlockedIdentifier')).toBe(0)
    })
  })

  test('a block that loses every race answers 503 conflict with Retry-After and changes nothing', async () => {
    await suite.client.identify({ email: 'ann@x.io', phoneNumber: '5550100' })
    await suite.client.identify({ email: 'bea@x.io', phoneNumber: '5550100' })
    const before = await readAllContacts(suite.database)
    // Every write finds its customers changed since it read them, as under a storm of identifies.
    const racing = {
      ...suite.database,
      runBatch: async () => {
        throw Object.assign(new Error('Contact cluster changed after it was read'), {
          code: '40001',
        })
      },
    }
    const client = createTestClient(racing)
    const { status, headers, body } = await client.json('POST', '/api/blocked-identifiers', {
      phoneNumber: '5550100',
    })
    expect(status).toBe(503)
    expect(headers.get('retry-after')).toBe('1')
    expect(body).toMatchObject({ error: { code: 'conflict' } })
    expect(await readAllContacts(suite.database)).toEqual(before)
    expect(await count('BlockedIdentifier')).toBe(0)
  })

  test('a block that read before an erasure committed reads again: the evidence it counted is gone', async () => {
    // Two rows held together twice over: by an email and by a phone.
    await suite.database.query(`
      insert into "Contact" ("email", "phoneNumber", "emailKey", "phoneKey", "keyVersion", "linkedId", "linkPrecedence", "createdAt")
      values ('a@x.io', '111', 'a@x.io', '111', '1', null, 'primary', '2024-01-01'),
             ('a@x.io', '111', 'a@x.io', '111', '1', 1, 'secondary', '2024-01-02')`)
    // The block reads (the email still joins the rows, so nothing would split), then the erasure of
    // the email commits (the phone still joins them, so it moves no link), then the block writes.
    let isFirst = true
    const racing = {
      ...suite.database,
      runBatch: async (build: Parameters<typeof suite.database.runBatch>[0]) => {
        if (isFirst) {
          isFirst = false
          expect(
            (await suite.client.json('DELETE', '/api/identifiers', { email: 'a@x.io' })).status,
          ).toBe(200)
        }
        return suite.database.runBatch(build)
      },
    }
    const { status, body } = await createTestClient(racing).json(
      'POST',
      '/api/blocked-identifiers',
      {
        phoneNumber: '111',
      },
    )
    expect(status).toBe(201)
    expect(body).toMatchObject({ splits: [{ primaryContactId: 1, into: [1, 2] }] })
    expect(
      (await readAllContacts(suite.database)).map(({ id, linkedId }) => ({ id, linkedId })),
    ).toEqual([
      { id: 1, linkedId: null },
      { id: 2, linkedId: null },
    ])
    await expectIntact()
  })

  describe('quarantine', () => {
    const guarded = () =>
      createTestClient(
        suite.database,
        {},
        { sharingLimits: { maxEmailsPerPhone: 3, maxPhonesPerEmail: 3 } },
      )

    test('a family phone with three emails stays one customer', async () => {
      const client = guarded()
      for (const email of ['mum@x.io', 'dad@x.io', 'kid@x.io']) {
        await client.identify({ email, phoneNumber: '4242' })
      }
      expect(await customerOf('phoneNumber=4242')).toMatchObject({
        primaryContactId: 1,
        secondaryContactIds: [2, 3],
      })
      expect(await count('BlockedIdentifier')).toBe(0)
    })

    test('the email that would make four quarantines the phone and splits its customer', async () => {
      const client = guarded()
      for (const email of ['a@x.io', 'b@x.io', 'c@x.io']) {
        await client.identify({ email, phoneNumber: '4242' })
      }
      const { status, body } = await client.identify({ email: 'd@x.io', phoneNumber: '4242' })
      expect(status).toBe(200)
      expect((body as Customer).contact).toMatchObject({
        emails: ['d@x.io'],
        phoneNumbers: ['4242'],
        secondaryContactIds: [],
      })
      expect(
        await suite.database.query('select "kind", "key", "reason" from "BlockedIdentifier"'),
      ).toEqual([{ kind: 'phoneNumber', key: '4242', reason: 'auto' }])
      for (const email of ['a@x.io', 'b@x.io', 'c@x.io']) {
        expect((await customerOf(`email=${email}`))?.secondaryContactIds).toEqual([])
      }
      const kinds = (
        await suite.database.query<{ kind: string }>('select "kind" from "ContactEvent"')
      ).map((row) => row.kind)
      expect(kinds).toEqual(expect.arrayContaining(['identifier_quarantined', 'customer_split']))
      await expectIntact()
    })
  })

  describe('erasure', () => {
    test('erasing a value removes it from rows, evidence and quarantine, keeping a keyed hash', async () => {
      await suite.client.identify({ email: 'eve@x.io', phoneNumber: '31337' })
      await suite.client.identify({ email: 'eve@x.io' }) // nothing new
      await suite.client.identify({ email: 'zed@x.io', phoneNumber: '999' })
      await suite.client.identify({ email: 'eve@x.io', phoneNumber: '999' }) // merges by a pair
      const preview = await suite.client.json('DELETE', '/api/identifiers?dryRun=true', {
        email: 'eve@x.io',
      })
      expect(preview.body).toMatchObject({
        dryRun: true,
        erased: { contactIds: [1], deletedContactIds: [] },
      })
      expect(await count('ErasedIdentifier')).toBe(0)

      const { status, body } = await suite.client.json('DELETE', '/api/identifiers', {
        email: 'eve@x.io',
      })
      expect(status).toBe(200)
      expect(body).toMatchObject({
        dryRun: false,
        erased: { kind: 'email', value: 'eve@x.io', contactIds: [1], deletedContactIds: [] },
        splits: [{ primaryContactId: 1, into: [1, 2] }],
      })
      const text =
        JSON.stringify(await suite.database.query('select * from "Contact"')) +
        JSON.stringify(await suite.database.query('select * from "ContactEvent"'))
      expect(text).not.toContain('eve@x.io')
      expect(
        await suite.database.query('select "kind", "keyHash" from "ErasedIdentifier"'),
      ).toEqual([
        {
          kind: 'email',
          keyHash: toErasureHash({ kind: 'email', key: 'eve@x.io' }, DEV_ERASURE_KEY),
        },
      ])
      // The same person checking out again starts a new customer.
      const again = await suite.client.identify({ email: 'eve@x.io' })
      expect((again.body as Customer).contact).toMatchObject({
        emails: ['eve@x.io'],
        phoneNumbers: [],
      })
      await expectIntact()
    })

    test('a row left with no identifier is deleted', async () => {
      await suite.client.identify({ email: 'solo@x.io' })
      await suite.client.identify({ email: 'solo@x.io', phoneNumber: '1212' })
      await suite.client.identify({ email: 'solo@x.io', phoneNumber: '3434' })
      const { body } = await suite.client.json('DELETE', '/api/identifiers', { email: 'solo@x.io' })
      expect(body).toMatchObject({ erased: { contactIds: [1, 2, 3], deletedContactIds: [1] } })
      // Both rows left keep a phone, and nothing holds them together any more.
      expect(await customerOf('phoneNumber=1212')).toMatchObject({
        primaryContactId: 2,
        emails: [],
      })
      expect(await customerOf('phoneNumber=3434')).toMatchObject({
        primaryContactId: 3,
        emails: [],
      })
      await expectIntact()
    })

    test('erasing a customer deletes every row and is 404 after', async () => {
      await suite.client.identify({ email: 'gone@x.io', phoneNumber: '808' })
      await suite.client.identify({ email: 'gone2@x.io', phoneNumber: '808' })
      await suite.client.identify({ email: 'stay@x.io', phoneNumber: '0000000000' })
      await suite.client.identify({ email: 'gone@x.io', phoneNumber: '0000000000' })
      const preview = await suite.client.send({
        method: 'DELETE',
        path: '/api/customers/2?dryRun=true',
      })
      expect(preview.body).toMatchObject({
        dryRun: true,
        erased: {
          contactIds: [1, 2, 4],
          emails: ['gone@x.io', 'gone2@x.io'],
          phoneNumbers: ['808'],
        },
      })
      const { status } = await suite.client.send({ method: 'DELETE', path: '/api/customers/2' })
      expect(status).toBe(200)
      expect(await readAllContacts(suite.database)).toMatchObject([
        { id: 3, email: 'stay@x.io', phoneNumber: '0000000000' },
      ])
      expect(await count('ErasedIdentifier')).toBe(3)
      const after = await suite.client.send({ method: 'DELETE', path: '/api/customers/2' })
      expect(after.status).toBe(404)
      await expectIntact()
    })

    test('unknown values and ids are 404, malformed ones 400', async () => {
      expect(
        (await suite.client.json('DELETE', '/api/identifiers', { phoneNumber: '1' })).status,
      ).toBe(404)
      expect(
        (await suite.client.send({ method: 'DELETE', path: '/api/customers/77' })).status,
      ).toBe(404)
      expect((await suite.client.send({ method: 'DELETE', path: '/api/customers/x' })).status).toBe(
        400,
      )
      expect(
        (await suite.client.send({ method: 'DELETE', path: '/api/customers/1?dryRun=maybe' }))
          .status,
      ).toBe(400)
    })
  })

  describe('match keys', () => {
    test('with a default region, national and international spellings are one customer', async () => {
      const client = createTestClient(
        suite.database,
        {},
        {
          matchKeys: { defaultRegion: 'US', emailProviderAliases: [] },
        },
      )
      await client.identify({ email: 'intl@x.io', phoneNumber: '+1 (415) 555-2671' })
      const { body } = await client.identify({ email: 'natl@x.io', phoneNumber: '415.555.2671' })
      expect((body as Customer).contact).toMatchObject({
        primaryContactId: 1,
        phoneNumbers: ['+14155552671', '4155552671'],
      })
    })

    test('without one, a national number matches only itself, as before', async () => {
      await suite.client.identify({ email: 'intl@x.io', phoneNumber: '+1 (415) 555-2671' })
      const { body } = await suite.client.identify({
        email: 'natl@x.io',
        phoneNumber: '415.555.2671',
      })
      expect((body as Customer).contact.primaryContactId).toBe(2)
    })

    test('Gmail aliases match only when the store opts in', async () => {
      const client = createTestClient(
        suite.database,
        {},
        {
          matchKeys: { defaultRegion: null, emailProviderAliases: ['gmail'] },
        },
      )
      await client.identify({ email: 'jane.doe+shop@googlemail.com' })
      const { body } = await client.identify({ email: 'janedoe@gmail.com' })
      expect((body as Customer).contact.primaryContactId).toBe(1)
      const plain = await suite.client.identify({ email: 'jane.d.oe@gmail.com' })
      expect((plain.body as Customer).contact.primaryContactId).toBe(2)
    })
  })
})
