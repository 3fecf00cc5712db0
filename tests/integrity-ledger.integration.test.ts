// The integrity checker's ledger check (lib/integrity/ledger.ts) through every driver: customers
// the service built are accounted for by rows and recorded pairs; a merge without evidence, or
// evidence across customers, is reported.
import { describe, expect, test } from 'vitest'
import { checkLedger } from '../lib/integrity/ledger.js'
import { ALL_DRIVERS, useTestDatabase } from './support/database.js'

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)

  const identifyAll = async (bodies: unknown[]) => {
    for (const body of bodies) expect((await suite.client.identify(body)).status).toBe(200)
  }

  test("the task statement's customers, merge included, are fully accounted for", async () => {
    await identifyAll([
      { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' },
      { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
      { email: 'george@hillvalley.edu', phoneNumber: '919191' },
      { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
      { email: 'george@hillvalley.edu', phoneNumber: '717171' },
    ])
    expect(await checkLedger(suite.database)).toEqual([])
  })

  test('a merge the ledger never saw is reported as an unexplained link', async () => {
    await identifyAll([{ email: 'a@x.io' }, { email: 'b@x.io' }])
    // An older service joined the two without recording why.
    await suite.database.query(
      `update "Contact" set "linkedId" = 1, "linkPrecedence" = 'secondary' where "id" = 2`,
    )
    expect(await checkLedger(suite.database)).toEqual([
      { kind: 'unexplained-link', customerId: 1, groups: [[1], [2]] },
    ])
  })

  test('evidence that joins two customers the table keeps apart is reported', async () => {
    await identifyAll([
      { email: 'a@x.io' },
      { phoneNumber: '1' },
      { email: 'a@x.io', phoneNumber: '1' },
    ])
    // Undo the merge by hand, leaving its recorded pair behind.
    await suite.database.query(
      `update "Contact" set "linkedId" = null, "linkPrecedence" = 'primary' where "id" = 2`,
    )
    expect(await checkLedger(suite.database)).toContainEqual({
      kind: 'evidence-joins-customers',
      customerIds: [1, 2],
    })
  })
})
