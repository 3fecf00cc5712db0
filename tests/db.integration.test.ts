// Database.runBatch (lib/db/*.ts) is all or nothing on every driver, whether a statement fails at
// the server or is refused by the driver before it is sent.
import { sql } from 'drizzle-orm'
import type pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { readAllContacts } from '../harness/invariants.js'
import { runWithDeadline } from '../lib/db/deadline.js'
import { classifyDatabaseError } from '../lib/db/errors.js'
import { openDatabase } from '../lib/db/open.js'
import { contact } from '../lib/db/schema.js'
import { readEnv } from '../lib/platform/env.js'
import {
  ALL_DRIVERS,
  createServerDatabase,
  openTestDatabase,
  type TestDatabase,
} from './support/database.js'

const row = (email: string) =>
  ({ email, phoneNumber: null, linkedId: null, linkPrecedence: 'primary' }) as const

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await openTestDatabase(driver)
  })
  afterAll(() => database.dispose())
  beforeEach(() => database.query('truncate "Contact" restart identity'))

  test('a batch whose last statement fails at the server writes nothing', async () => {
    const batch = database.runBatch((db) => [
      db.insert(contact).values(row('first@x.io')),
      db.insert(contact).values(row('second@x.io')),
      db.execute(sql`select 1 / 0`),
    ])
    await expect(batch).rejects.toThrow()
    expect(await readAllContacts(database)).toEqual([])
  })

  test('a batch that succeeds writes every statement', async () => {
    await database.runBatch((db) => [
      db.insert(contact).values(row('first@x.io')),
      db.insert(contact).values(row('second@x.io')),
    ])
    expect((await readAllContacts(database)).map((r) => r.email)).toEqual([
      'first@x.io',
      'second@x.io',
    ])
  })
})

test('node-postgres: a statement the driver refuses before sending it leaves the batch unwritten', async () => {
  const database = await openTestDatabase('node-postgres')
  try {
    // pg serialises a parameter with its toPostgres method; this one throws, so pg never sends
    // the statement, and the server sees nothing fail.
    const unserialisable = {
      toPostgres: () => {
        throw new Error('cannot serialise')
      },
    }
    const batch = database.runBatch((db) => [
      db.insert(contact).values(row('first@x.io')),
      db.execute(sql`select ${unserialisable}::text`),
      db.insert(contact).values(row('second@x.io')),
    ])
    await expect(batch).rejects.toHaveProperty('cause.message', 'cannot serialise')
    expect(await readAllContacts(database)).toEqual([])
  } finally {
    await database.dispose()
  }
})

describe('node-postgres: a transaction whose connection dies before begin gives its pool slot back', () => {
  test.each(['runTransaction', 'runBatch'] as const)('%s', async (method) => {
    const server = await createServerDatabase()
    // One connection: a slot lost for good would leave the next query waiting for nothing.
    const database = await openDatabase(
      readEnv({
        DATABASE_URL: server.url,
        DATABASE_DRIVER: 'node-postgres',
        DATABASE_POOL_SIZE: '1',
      }),
    )
    try {
      const pool = (database.db as unknown as { $client: pg.Pool }).$client
      pool.once('acquire', (client) => {
        ;(
          client as unknown as { connection: { stream: { destroy(): void } } }
        ).connection.stream.destroy()
      })
      const attempt =
        method === 'runTransaction'
          ? database.runTransaction?.(async () => 'never')
          : database.runBatch((db) => [db.execute(sql`select 1`)])
      const failure = await Promise.resolve(attempt).catch((error: unknown) => error)
      expect(classifyDatabaseError(failure)).toBe('unavailable')
      await expect(database.db.execute(sql`select 1 as "isAlive"`)).resolves.toMatchObject({
        rows: [{ isAlive: 1 }],
      })
    } finally {
      await database.close()
      await server.drop()
    }
  })
})

test('node-postgres: a transaction that reaches its commit after the deadline is rolled back, and its connection reused', async () => {
  const server = await createServerDatabase()
  const database = await openDatabase(
    readEnv({
      DATABASE_URL: server.url,
      DATABASE_DRIVER: 'node-postgres',
      DATABASE_POOL_SIZE: '1',
    }),
  )
  try {
    const late = runWithDeadline(performance.now() + 300, async () =>
      database.runTransaction?.(async (tx) => {
        await tx.insert(contact).values(row('late@x.io'))
        // Every statement answered in time; the caller was answered 503 while this one waited.
        await new Promise((resolve) => setTimeout(resolve, 500))
      }),
    )
    expect(classifyDatabaseError(await late.catch((error: unknown) => error))).toBe('deadline')
    const rows = await database.db.execute(sql`select count(*)::int as "n" from "Contact"`)
    expect(rows).toMatchObject({ rows: [{ n: 0 }] })
  } finally {
    await database.close()
    await server.drop()
  }
})
