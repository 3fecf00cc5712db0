// Customers far larger than any request should meet, in the shapes a hostile review built: each
// must still be answered and healed, on every driver. The rows are loaded with set-based SQL,
// not through the service, so each case takes seconds.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { findViolations, readAllContacts } from '../harness/invariants.js'
import { keyedAsStored } from '../lib/core/contact.js'
import type { Database } from '../lib/db/database.js'
import { MAX_LEADER_LOCKS } from '../lib/identify/cluster-locks.js'
import { identifyContact } from '../lib/identify/shell.js'
import { createContactStore } from '../lib/identify/store.js'
import {
  ALL_DRIVERS,
  openTestDatabase,
  SERVER_DRIVERS,
  type TestDatabase,
} from './support/database.js'
import { createTestClient } from './support/http.js'

// Past 65,535, a count of bind parameters no longer fits the protocol's 16-bit field.
const BEYOND_PARAMETER_LIMIT = 70_000

// One advisory lock per leader of this many would exhaust a default server's lock table (64 per
// connection, shared by all): out of shared memory (53200).
const ORPHANS = 20_000
// The advisory locks one write may hold, whatever the shape of its customer: its leaders', the
// one over all clusters, and its email's and phone number's.
const MAX_LOCKS = MAX_LEADER_LOCKS + 3

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  let database: TestDatabase
  let client: ReturnType<typeof createTestClient>

  beforeAll(async () => {
    database = await openTestDatabase(driver)
    client = createTestClient(database)
  })
  afterAll(() => database.dispose())
  beforeEach(async () => {
    await database.query('truncate "Contact" restart identity')
    client.logger.lines.length = 0
  })

  test(`a merge that re-links ${BEYOND_PARAMETER_LIMIT.toLocaleString('en')} rows answers 200 and leaves one valid customer`, async () => {
    // Customer 1 is one row; customer 2 is a primary and its secondaries, all younger.
    await database.query(`
      insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      overriding system value values
        (1, 'old@large.test', '100', null, 'primary', '2024-01-01'),
        (2, 'big@large.test', '200', null, 'primary', '2024-01-02')`)
    await database.query(`
      insert into "Contact" ("id", "email", "linkedId", "linkPrecedence", "createdAt")
      overriding system value
      select n, 'b' || n || '@large.test', 2, 'secondary', '2024-01-03'
      from generate_series(3, ${BEYOND_PARAMETER_LIMIT + 2}) n`)
    await database.query(`select setval('"Contact_id_seq"', ${BEYOND_PARAMETER_LIMIT + 2})`)

    const { status, body } = await client.identify({
      email: 'old@large.test',
      phoneNumber: '200',
    })

    expect(status, JSON.stringify(body).slice(0, 300)).toBe(200)
    const { contact } = body as { contact: { primaryContactId: number; secondaryContactIds: [] } }
    expect(contact.primaryContactId).toBe(1)
    expect(contact.secondaryContactIds).toHaveLength(BEYOND_PARAMETER_LIMIT + 1)
    const rows = await readAllContacts(database)
    expect(findViolations(rows)).toEqual([])
    expect(rows.filter((row) => row.linkedId !== 1).map((row) => row.id)).toEqual([1])
  })

  test(`a request for ${ORPHANS.toLocaleString('en')} secondaries of a deleted primary answers 200, heals them into one customer and takes a few locks`, async () => {
    // Rule 5: each secondary of a deleted primary leads its own rows, so the phone they share
    // names a cluster of that many leaders.
    await database.query(`
      insert into "Contact" ("id", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "deletedAt")
      overriding system value values (1, '555', null, 'primary', '2024-01-01', '2024-02-01')`)
    await database.query(`
      insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      overriding system value
      select n, 'o' || n || '@large.test', '555', 1, 'secondary', '2024-01-02'
      from generate_series(2, ${ORPHANS + 1}) n`)
    await database.query(`select setval('"Contact_id_seq"', ${ORPHANS + 1})`)
    const probe = probeLocks(database)
    const store = createContactStore(probe.database)

    const { status, body } = await createTestClient(probe.database).identify({ phoneNumber: '555' })

    expect(status, JSON.stringify(body)).toBe(200)
    expect((body as { contact: { primaryContactId: number } }).contact.primaryContactId).toBe(2)
    expect(probe.held().length).toBeLessThanOrEqual(MAX_LOCKS)
    const rows = await readAllContacts(database)
    expect(findViolations(rows)).toEqual([])
    expect(rows.filter((row) => row.deletedAt === null && row.linkedId !== 2)).toHaveLength(1)
    // Healed: the next write is an ordinary one, locking the one leader and its identifiers.
    const next = await identifyContact(
      store,
      keyedAsStored({ email: 'new@large.test', phoneNumber: '555' }),
    )
    expect(next).toMatchObject({ ok: true, outcome: 'linked', attempts: 1 })
    expect(probe.held().length).toBeLessThanOrEqual(4)
  })

  // The bound is written twice, in contact_lock_keys and in lib/identify/cluster-locks.ts, which
  // must agree on which locks a write holds.
  test.each([
    [MAX_LEADER_LOCKS, 'one lock each, and the lock over all clusters shared', 'ShareLock'],
    [MAX_LEADER_LOCKS + 1, 'the lock over all clusters alone, exclusive', 'ExclusiveLock'],
  ])('a write of %i leaders takes %s', async (leaders, _, mode) => {
    await database.query(`
      insert into "Contact" ("id", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "deletedAt")
      overriding system value values (1, '555', null, 'primary', '2024-01-01', '2024-02-01')`)
    await database.query(`
      insert into "Contact" ("id", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      overriding system value
      select n, '555', 1, 'secondary', '2024-01-02' from generate_series(2, ${leaders + 1}) n`)
    await database.query(`select setval('"Contact_id_seq"', ${leaders + 1})`)
    const probe = probeLocks(database)

    const result = await identifyContact(
      createContactStore(probe.database),
      keyedAsStored({
        email: null,
        phoneNumber: '555',
      }),
    )

    expect(result).toMatchObject({ ok: true, outcome: 'merged' })
    const [spaces] = await database.query<Record<'root' | 'clusters' | 'identifier', number>>(
      `select hashtext('Contact.root') as root, hashtext('Contact.clusters') as clusters,
         hashtext('Contact.identifier') as identifier`,
    )
    const held = probe.held()
    const roots = held.filter(({ space }) => space === spaces?.root).map(({ key }) => key)
    const leaderIds = Array.from({ length: leaders }, (_, index) => index + 2)
    expect(roots).toEqual(leaders > MAX_LEADER_LOCKS ? [] : leaderIds)
    expect(held.filter(({ space }) => space === spaces?.clusters)).toEqual([
      { space: spaces?.clusters, key: 0, mode },
    ])
    expect(held.filter(({ space }) => space === spaces?.identifier)).toHaveLength(1)
  })

  // Lists travel as one array parameter, whose text form quotes these characters: each driver
  // must send them so that the lock keys are the identifiers themselves.
  test('identifiers holding quotes, commas, braces, backslashes and NULL are locked as themselves', async () => {
    const request = { email: 'a"b\\c,{d} NULL@x.io', phoneNumber: "'1',2" }
    const probe = probeLocks(database)
    const result = await identifyContact(createContactStore(probe.database), keyedAsStored(request))
    expect(result).toMatchObject({ ok: true, outcome: 'created' })
    const expected = await database.query<{ key: number }>(
      `select hashtext(key) as key from unnest($1::text[]) as key order by 1`,
      [[`email:${request.email}`, `phone:${request.phoneNumber}`]],
    )
    const [spaces] = await database.query<Record<'clusters' | 'identifier', number>>(
      `select hashtext('Contact.clusters') as clusters, hashtext('Contact.identifier') as identifier`,
    )
    const held = probe.held()
    expect(held.filter(({ space }) => space === spaces?.identifier).map(({ key }) => key)).toEqual(
      expected.map(({ key }) => key),
    )
    // A new customer shares the lock over all clusters too, so a backfill holding it makes it
    // wait (drizzle/0008_every_write_shares_clusters_lock.sql).
    expect(held.filter(({ space }) => space === spaces?.clusters)).toEqual([
      { space: spaces?.clusters, key: 0, mode: 'ShareLock' },
    ])
    const rows = await readAllContacts(database)
    expect(rows.map((row) => [row.email, row.phoneNumber])).toEqual([
      [request.email, request.phoneNumber],
    ])
  })
})

// A customer this large is read by one request at a time per process (lib/identify/large-reads.ts):
// the others wait without a connection, leaving the pool to everyone else's requests.
describe.each(SERVER_DRIVERS)('on %s, concurrent requests for a large customer', (driver) => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await openTestDatabase(driver)
  })
  afterAll(() => database.dispose())

  test('read it one at a time, and all answer 200', async () => {
    await database.query(`
      insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      overriding system value values (1, 'big@large.test', '100', null, 'primary', '2024-01-01')`)
    await database.query(`
      insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      overriding system value
      select n, 'b' || n || '@large.test', '1' || n, 1, 'secondary', '2024-01-02'
      from generate_series(2, 5000) n`)
    const client = createTestClient(database)
    // The first request finds the customer large; the ones after name other rows of it.
    expect((await client.identify({ email: 'big@large.test' })).status).toBe(200)

    let isDone = false
    let mostAtOnce = 0
    const watch = (async () => {
      while (!isDone) {
        const [row] = await database.query<{ reads: number }>(
          `select count(*)::int as reads from pg_stat_activity
           where datname = current_database() and state = 'active' and pid <> pg_backend_pid()
             and query like '%with recursive%'`,
        )
        mostAtOnce = Math.max(mostAtOnce, row?.reads ?? 0)
      }
    })()
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, n) => client.identify({ email: `b${n + 2}@large.test` })),
    )
    isDone = true
    await watch

    expect(answers.map(({ status }) => status)).toEqual(answers.map(() => 200))
    expect(mostAtOnce).toBe(1)
  })
})

/** An advisory lock a write batch held at its end: its key pair and mode. */
type HeldLock = { space: number; key: number; mode: string }

/**
 * The same database, whose write batches end by listing the advisory locks their transaction
 * holds; `held()` returns those of the latest batch, ordered by key pair.
 */
function probeLocks(database: Database): { database: Database; held: () => HeldLock[] } {
  let held: HeldLock[] = []
  const probed: Database = {
    ...database,
    runBatch: async (build) => {
      const results = await database.runBatch((db) => [
        ...build(db),
        db.execute(sql`
          select classid::int8 as "space", objid::int8 as "key", mode from pg_locks
          where locktype = 'advisory' and objsubid = 2 and pid = pg_backend_pid()
          order by 1, 2, 3`),
      ])
      // pg_locks shows the two int4 halves of a key as unsigned oids.
      held = (results.at(-1) as { rows: HeldLock[] }).rows.map((lock) => ({
        space: Number(lock.space) | 0,
        key: Number(lock.key) | 0,
        mode: lock.mode,
      }))
      return results.slice(0, -1)
    },
  }
  return { database: probed, held: () => held }
}
