// `npm run rekey` and `npm run block` (lib/guard/rekey.ts, scripts/): rows keyed before the guard
// existed are re-keyed under the configured rules, customers that now share a key are joined and
// those a built-in rule now separates are split, a dry run changes nothing, and a second run has
// nothing left to do.
import { describe, expect, test } from 'vitest'
import { findViolations, readAllContacts } from '../harness/invariants.js'
import { rekey } from '../lib/guard/rekey.js'
import { runScript } from './support/command.js'
import { ALL_DRIVERS, createServerDatabase, useTestDatabase } from './support/database.js'

const US = { defaultRegion: 'US' as const, emailProviderAliases: [] }

// Rows an older service wrote: keyed by their values, under the version `legacy`. Two customers
// one phone spelled two ways, and two strangers joined by a placeholder phone.
const LEGACY_ROWS = `
  insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt") values
    ('a@x.io', '+14155552671', null, 'primary', '2024-01-01'),
    ('b@x.io', '4155552671', null, 'primary', '2024-01-02'),
    ('s1@x.io', '0000000000', null, 'primary', '2024-01-03'),
    ('s2@x.io', '0000000000', 3, 'secondary', '2024-01-04')`

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const suite = useTestDatabase(driver)
  const guard = () => ({ database: suite.database, erasureKey: 'test-erasure-key-0000' })
  const links = async () =>
    (await readAllContacts(suite.database)).map(({ id, linkedId, phoneKey }) => ({
      id,
      linkedId,
      phoneKey,
    }))

  test('a dry run reports the joins and splits and changes nothing', async () => {
    await suite.database.query(LEGACY_ROWS)
    const before = await readAllContacts(suite.database)
    const report = await rekey(guard(), US, { dryRun: true })
    expect(report).toMatchObject({
      rowsRekeyed: 4,
      customersJoined: 1,
      customersSplit: 1,
      failed: 0,
    })
    expect(await readAllContacts(suite.database)).toEqual(before)
  })

  test('a run re-keys, joins and splits, and a second run has nothing to do', async () => {
    await suite.database.query(LEGACY_ROWS)
    const report = await rekey(guard(), US, { dryRun: false })
    expect(report).toMatchObject({
      keyVersion: '1;region=US',
      rowsRekeyed: 4,
      customersJoined: 1,
      customersSplit: 1,
    })
    expect(await links()).toEqual([
      { id: 1, linkedId: null, phoneKey: '+14155552671' },
      { id: 2, linkedId: 1, phoneKey: '+14155552671' },
      { id: 3, linkedId: null, phoneKey: '0000000000' },
      { id: 4, linkedId: null, phoneKey: '0000000000' },
    ])
    expect(findViolations(await readAllContacts(suite.database))).toEqual([])
    const kinds = (
      await suite.database.query<{ kind: string }>(
        'select "kind" from "ContactEvent" order by "id"',
      )
    ).map((row) => row.kind)
    expect(kinds).toEqual(['customers_merged', 'customer_split'])
    expect(await rekey(guard(), US, { dryRun: false })).toMatchObject({
      rowsRekeyed: 0,
      customersJoined: 0,
      customersSplit: 0,
    })
  })
})

test('npm run block blocks and unblocks from the command line, a dry run first', async () => {
  const server = await createServerDatabase()
  const run = (args: string[]) => runScript('block', args, server.url)
  const pg = await import('pg')
  const client = new pg.default.Client({ connectionString: server.url })
  await client.connect()
  try {
    await client.query(`
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt") values
        ('a@x.io', '5550100', null, 'primary', '2024-01-01'),
        ('b@x.io', '5550100', 1, 'secondary', '2024-01-02')`)
    const preview = await run(['--phone', '555-0100', '--dry-run'])
    expect(preview.code).toBe(0)
    expect(preview.stdout).toContain('would split 1 customers')
    expect(preview.stdout).not.toContain('a@x.io')
    expect((await client.query('select count(*)::int as n from "BlockedIdentifier"')).rows).toEqual(
      [{ n: 0 }],
    )

    expect((await run(['--phone', '5550100'])).code).toBe(0)
    expect(
      (await client.query('select "id", "linkedId" from "Contact" order by "id"')).rows,
    ).toEqual([
      { id: 1, linkedId: null },
      { id: 2, linkedId: null },
    ])
    expect((await run(['--phone', '5550100'])).code).toBe(1)
    expect((await run(['--phone', '5550100', '--unblock'])).code).toBe(0)
    expect(
      (await client.query('select "id", "linkedId" from "Contact" order by "id"')).rows,
    ).toEqual([
      { id: 1, linkedId: null },
      { id: 2, linkedId: 1 },
    ])
    expect((await run(['--email', 'not an email'])).code).toBe(2)
  } finally {
    await client.end()
    await server.drop()
  }
})
