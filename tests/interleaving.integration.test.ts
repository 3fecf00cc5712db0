// Deterministic interleavings of two writers. Writer A is held at the end of its write batch,
// after its writes and before its commit, by a gate lock the test owns; writer B then must wait
// on one of A's advisory locks (not just a row lock), and once A commits, B must notice the change
// and retry. Each case once let two writers take disjoint locks, or would if the protocol broke.
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { findViolations, groupCustomers, readAllContacts } from '../harness/invariants.js'
import type { Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import type { Database } from '../lib/db/database.js'
import { identifyContact } from '../lib/identify/shell.js'
import { createContactStore } from '../lib/identify/store.js'
import {
  openTestDatabase,
  SERVER_DRIVERS,
  type TestDatabase,
  waitForAdvisoryWaiter,
} from './support/database.js'

const GATE = 424242

/** The same database, whose write batches end by waiting for the gate lock. */
function withGate(database: Database): Database {
  return {
    ...database,
    runBatch: async (build) => {
      const results = await database.runBatch((db) => [
        ...build(db),
        db.execute(sql`select pg_advisory_xact_lock(${GATE})`),
      ])
      return results.slice(0, -1)
    },
  }
}

// 17 secondaries of a deleted primary, each the leader of its own rows (rule 5): more leaders
// than a write locks one by one (MAX_LEADER_LOCKS), so the phone they share is written under the
// lock over all clusters.
const MANY_LEADERS = `
    insert into "Contact" ("id", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "deletedAt") overriding system value values
      (1, '555', null, 'primary', '2024-01-01', '2024-02-01');
    insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt") overriding system value
      select n, 'o' || n || '@x.io', '555', 1, 'secondary', '2024-01-02' from generate_series(2, 18) n;
    select setval('"Contact_id_seq"', 18)`

const SEEDS: Record<string, string> = {
  'two new customers with the same email': '',
  'a merge and a link to one of the merged customers': `
    insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt") overriding system value values
      (1, 'x@x.io', '100', null, 'primary', '2024-01-01'),
      (2, 'y@x.io', '200', null, 'primary', '2024-01-02');
    select setval('"Contact_id_seq"', 2)`,
  // Rows 2 and 3 point at each other (an older service's damage); a request naming only the
  // cycle and one naming the tree and the cycle must still share a lock.
  'a tree and a cycle left by an older service': `
    insert into "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt") overriding system value values
      (1, 't@x.io', null, null, 'primary', '2024-01-10'),
      (2, null, '222', null, 'primary', '2024-01-01'),
      (3, null, '333', 2, 'secondary', '2024-01-02');
    update "Contact" set "linkedId" = 3, "linkPrecedence" = 'secondary' where "id" = 2;
    select setval('"Contact_id_seq"', 3)`,
  'more leaders than are locked one by one, then one of them': MANY_LEADERS,
  'one of more leaders than are locked one by one, then all of them': MANY_LEADERS,
}

// The one customer the seed of many leaders leaves, with `phone` added.
const manyLeadersCustomer = (phone: string) => [
  ...Array.from({ length: 17 }, (_, index) => `email:o${index + 2}@x.io`).sort(),
  'phone:555',
  `phone:${phone}`,
]

// Each case: the seed, writer A's request, writer B's request, and the one customer left.
const CASES: [string, Identifiers, Identifiers, string[]][] = [
  [
    'a merge and a link to one of the merged customers',
    // No identifier in common: only the lock on customer 2's root keeps them apart.
    { email: 'x@x.io', phoneNumber: '200' },
    { email: 'y@x.io', phoneNumber: '201' },
    ['email:x@x.io', 'email:y@x.io', 'phone:100', 'phone:200', 'phone:201'],
  ],
  [
    // Both read an empty cluster: only the lock on the email keeps them apart.
    'two new customers with the same email',
    { email: 'n@x.io', phoneNumber: '1' },
    { email: 'n@x.io', phoneNumber: '2' },
    ['email:n@x.io', 'phone:1', 'phone:2'],
  ],
  [
    'a tree and a cycle left by an older service',
    { email: 't@x.io', phoneNumber: '222' },
    { email: 'new@x.io', phoneNumber: '333' },
    ['email:new@x.io', 'email:t@x.io', 'phone:222', 'phone:333'],
  ],
  [
    // No identifier in common, and the first locks no leader one by one: only the lock over all
    // clusters, exclusive for the first, shared for the second, keeps them apart.
    'more leaders than are locked one by one, then one of them',
    { email: null, phoneNumber: '555' },
    { email: 'o9@x.io', phoneNumber: '600' },
    manyLeadersCustomer('600'),
  ],
  [
    // The same, the other way round: the writer of one leader holds the shared lock first.
    'one of more leaders than are locked one by one, then all of them',
    { email: 'o9@x.io', phoneNumber: '601' },
    { email: null, phoneNumber: '555' },
    manyLeadersCustomer('601'),
  ],
]

describe.each(SERVER_DRIVERS)('on %s', (driver) => {
  let database: TestDatabase
  let gate: pg.Client
  beforeAll(async () => {
    database = await openTestDatabase(driver)
    gate = new pg.Client({ connectionString: database.url ?? '' })
    await gate.connect()
  })
  afterAll(async () => {
    await gate.end()
    await database.dispose()
  })
  beforeEach(() => database.query('truncate "Contact" restart identity'))

  test.each(CASES)(
    '%s: the second writer waits for the first, then retries',
    async (seed, first, second, customer) => {
      for (const statement of (SEEDS[seed] ?? '').split(';').filter((s) => s.trim())) {
        await database.query(statement)
      }
      await gate.query(`select pg_advisory_lock(${GATE})`)

      const a = identifyContact(createContactStore(withGate(database)), keyedAsStored(first))
      const gatedPid = await waitForAdvisoryWaiter(database)
      const b = identifyContact(createContactStore(database), keyedAsStored(second))
      // B blocks on an advisory lock A holds: the two writers' lock sets overlap.
      await waitForAdvisoryWaiter(database, [gatedPid])
      await gate.query(`select pg_advisory_unlock(${GATE})`)

      const [resultA, resultB] = await Promise.all([a, b])
      expect(resultA).toMatchObject({ ok: true, attempts: 1 })
      expect(resultB).toMatchObject({ ok: true, attempts: 2 })
      const rows = await readAllContacts(database)
      expect(findViolations(rows)).toEqual([])
      expect(groupCustomers(rows)).toEqual([customer])
    },
  )
})
