// The evidence ledger (lib/core/ledger.ts, lib/ledger/record.ts) through every driver: each change
// is recorded in the same transaction as the change, with the evidence that joined customers even
// when no row was inserted, and a change whose record fails is not made at all.
import { describe, expect, test } from 'vitest'
import { readAllContacts } from '../harness/invariants.js'
import { ALL_DRIVERS, useTestDatabase } from './support/database.js'

type EventRow = {
  kind: string
  primaryId: number
  contactIds: number[]
  absorbedIds: number[]
  joinedBy: string | null
  evidenceEmail: string | null
  evidencePhoneNumber: string | null
  requestId: string | null
}

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)

  const identify = async (body: unknown, requestId: string) => {
    const response = await suite.client.send({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify(body),
    })
    expect(response.status, JSON.stringify(response.body)).toBe(200)
  }
  const readEvents = () =>
    suite.database.query<EventRow>(
      `select "kind", "primaryId", "contactIds", "absorbedIds", "joinedBy", "evidenceEmail",
              "evidencePhoneNumber", "requestId" from "ContactEvent" order by "id"`,
    )

  test("the task statement's story is recorded step by step, evidence included", async () => {
    await identify({ email: 'lorraine@hillvalley.edu', phoneNumber: '123456' }, 'r1')
    await identify({ email: 'mcfly@hillvalley.edu', phoneNumber: '123456' }, 'r2')
    await identify({ email: 'lorraine@hillvalley.edu', phoneNumber: '123456' }, 'r3')
    await identify({ email: 'george@hillvalley.edu', phoneNumber: '919191' }, 'r4')
    await identify({ email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' }, 'r5')
    // Joins customers 4 and 5 without inserting a row: only the ledger keeps what joined them.
    await identify({ email: 'george@hillvalley.edu', phoneNumber: '717171' }, 'r6')

    const none = { joinedBy: null, evidenceEmail: null, evidencePhoneNumber: null }
    expect(await readEvents()).toEqual([
      {
        kind: 'customer_created',
        primaryId: 1,
        contactIds: [1],
        absorbedIds: [],
        ...none,
        requestId: 'r1',
      },
      {
        kind: 'contact_linked',
        primaryId: 1,
        contactIds: [1, 2],
        absorbedIds: [],
        ...none,
        joinedBy: 'phoneNumber',
        requestId: 'r2',
      },
      {
        kind: 'customer_created',
        primaryId: 3,
        contactIds: [3],
        absorbedIds: [],
        ...none,
        requestId: 'r4',
      },
      {
        kind: 'customer_created',
        primaryId: 4,
        contactIds: [4],
        absorbedIds: [],
        ...none,
        requestId: 'r5',
      },
      {
        kind: 'customers_merged',
        primaryId: 3,
        contactIds: [3, 4],
        absorbedIds: [4],
        joinedBy: 'both',
        evidenceEmail: 'george@hillvalley.edu',
        evidencePhoneNumber: '717171',
        requestId: 'r6',
      },
    ])
  })

  test('a merge that also inserts a row records the merge, then the row it linked', async () => {
    // The secondaries of a deleted primary each lead their own rows (linking rule 5).
    await suite.database.query(
      `insert into "Contact" ("id", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "deletedAt")
       overriding system value values
       (1, '9', null, 'primary', '2024-01-01', '2024-02-01'),
       (2, '9', 1, 'secondary', '2024-01-02', null),
       (3, '9', 1, 'secondary', '2024-01-03', null)`,
    )
    await suite.database.query(`select setval(pg_get_serial_sequence('"Contact"', 'id'), 3)`)
    await identify({ email: 'new@x.io', phoneNumber: '9' }, 'r1')
    expect(await readEvents()).toEqual([
      {
        kind: 'customers_merged',
        primaryId: 2,
        contactIds: [2, 3],
        absorbedIds: [3],
        joinedBy: 'phoneNumber',
        evidenceEmail: 'new@x.io',
        evidencePhoneNumber: '9',
        requestId: 'r1',
      },
      {
        kind: 'contact_linked',
        primaryId: 2,
        contactIds: [2, 4],
        absorbedIds: [],
        joinedBy: 'phoneNumber',
        evidenceEmail: null,
        evidencePhoneNumber: null,
        requestId: 'r1',
      },
    ])
  })

  test('a change whose record cannot be written is not made, and the request says so', async () => {
    await identify({ email: 'a@x.io', phoneNumber: '1' }, 'r1')
    await suite.database.query(
      `alter table "ContactEvent" add constraint "refuse_links" check ("kind" <> 'contact_linked')`,
    )
    try {
      const response = await suite.client.identify({ email: 'b@x.io', phoneNumber: '1' })
      expect(response.status).toBe(500)
      expect((await readAllContacts(suite.database)).map((row) => row.email)).toEqual(['a@x.io'])
      expect((await readEvents()).map((event) => event.kind)).toEqual(['customer_created'])
    } finally {
      await suite.database.query('alter table "ContactEvent" drop constraint "refuse_links"')
    }
  })
})
