// The guard's integrity checks (lib/integrity/guard.ts) through every driver: stale keys, a
// customer joined only through a blocked value, and an erased value back on an older row.
import { describe, expect, test } from 'vitest'
import { DEFAULT_MATCH_KEYS } from '../lib/guard/match-keys.js'
import { toErasureHash } from '../lib/guard/writes.js'
import { checkGuard } from '../lib/integrity/guard.js'
import { ALL_DRIVERS, useTestDatabase } from './support/database.js'

const CONFIG = { matchKeys: DEFAULT_MATCH_KEYS, erasureKey: 'test-erasure-key-0000' }

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)
  const insert = (values: string) =>
    suite.database.query(`
      insert into "Contact" ("email", "phoneNumber", "emailKey", "phoneKey", "keyVersion", "linkedId", "linkPrecedence", "createdAt")
      values ${values}`)

  test('a table the service wrote passes', async () => {
    await suite.client.identify({ email: 'a@x.io', phoneNumber: '0000000000' })
    await suite.client.identify({ email: 'b@x.io', phoneNumber: '0000000000' })
    await suite.client.identify({ email: 'a@x.io', phoneNumber: '77' })
    expect(await checkGuard(suite.database, CONFIG)).toEqual([])
  })

  test('rows keyed under another version, or with a wrong key, are out of date', async () => {
    await suite.database.query(
      `insert into "Contact" ("email", "linkPrecedence") values ('legacy@x.io', 'primary')`,
    )
    await insert(`('wrong@x.io', null, 'WRONG@x.io', null, '1', null, 'primary', '2024-01-01')`)
    expect(await checkGuard(suite.database, CONFIG)).toEqual([
      { kind: 'key-out-of-date', rowIds: [1, 2] },
    ])
  })

  test('a customer joined only through a blocked value is found', async () => {
    await insert(`
      ('a@x.io', '0000000000', 'a@x.io', '0000000000', '1', null, 'primary', '2024-01-01'),
      ('b@x.io', '0000000000', 'b@x.io', '0000000000', '1', 1, 'secondary', '2024-01-02')`)
    expect(await checkGuard(suite.database, CONFIG)).toEqual([
      { kind: 'linked-through-blocked-value', customerId: 1, groups: [[1], [2]] },
    ])
  })

  test('an erased value on a row older than its erasure is found, on a newer one it is not', async () => {
    await insert(`
      ('old@x.io', null, 'old@x.io', null, '1', null, 'primary', '2024-01-01'),
      ('new@x.io', null, 'new@x.io', null, '1', null, 'primary', '2024-03-01')`)
    for (const email of ['old@x.io', 'new@x.io']) {
      const hash = toErasureHash({ kind: 'email', key: email }, CONFIG.erasureKey)
      await suite.database.query(
        `insert into "ErasedIdentifier" ("kind", "keyHash", "erasedAt") values ('email', $1, '2024-02-01')`,
        [hash],
      )
    }
    expect(await checkGuard(suite.database, CONFIG)).toEqual([
      { kind: 'erased-value-present', rowIds: [1], eventIds: [] },
    ])
  })
})
