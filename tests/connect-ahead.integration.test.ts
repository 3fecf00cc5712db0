// A cold Vercel function opens its database connection while it loads (lib/compose.ts,
// composeFunction; Database.connect): statements issued meanwhile must wait for that connection
// and find its warm-up done, and one that could not open must leave them to fail on their own.
import { sql } from 'drizzle-orm'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { composeService } from '../lib/compose.js'
import { type Database, selectRows } from '../lib/db/database.js'
import { classifyDatabaseError } from '../lib/db/errors.js'
import { openDatabase } from '../lib/db/open.js'
import { readEnv } from '../lib/platform/env.js'
import { openTestDatabase, SERVER_DRIVERS, type TestDatabase } from './support/database.js'

const readClock = (database: Database) =>
  database.runRead(async (db) => {
    const [row] = await selectRows<{ at: string }>(db, sql`select clock_timestamp()::text as "at"`)
    return new Date(row?.at ?? 0).getTime()
  })

describe.each(SERVER_DRIVERS)('%s: connecting ahead of the first request', (driver) => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await openTestDatabase(driver)
  })
  afterAll(() => database.dispose())

  test('statements issued while the connection opens run once its warm-up is done', async () => {
    let warmedUpAt = 0
    const connecting = database.connect?.(async (db) => {
      const [row] = await selectRows<{ at: string }>(
        db,
        sql`select clock_timestamp()::text as "at" from pg_sleep(0.3)`,
      )
      warmedUpAt = new Date(row?.at ?? 0).getTime()
    })
    expect(connecting).toBeDefined()
    const reads = await Promise.all([readClock(database), readClock(database), readClock(database)])
    await connecting
    for (const at of reads) expect(at).toBeGreaterThanOrEqual(warmedUpAt)
    expect(warmedUpAt).toBeGreaterThan(0)
  })

  test("identify's warm-up reads nothing and writes nothing", async () => {
    const service = composeService({
      database: async () => database,
      identifyAuth: { kind: 'open' },
      adminAuth: { kind: 'open' },
    })
    await service.connect('identify')
    expect(await database.query('select count(*)::int as "n" from "Contact"')).toEqual([{ n: 0 }])
  })
})

test('node-postgres: the first request reuses the connection and statement its warm-up prepared', async () => {
  const server = await openTestDatabase('node-postgres')
  // Four connections allowed: a read that did not wait would open a second one.
  const database = await openDatabase(
    readEnv({ DATABASE_URL: server.url ?? '', DATABASE_DRIVER: 'node-postgres' }),
  )
  try {
    // A server slow to get ready: the request surely arrives while the connection opens.
    const slow: Database = {
      ...database,
      connect: (warmUp) =>
        database.connect?.(async (db) => {
          await db.execute(sql`select pg_sleep(0.3)`)
          return warmUp?.(db)
        }) ?? Promise.resolve(),
    }
    const service = composeService({
      database: async () => slow,
      identifyAuth: { kind: 'open' },
      adminAuth: { kind: 'open' },
    })
    const connecting = service.connect('identify')
    const response = await service.identify(
      new Request('https://identity.test/identify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'first@example.com' }),
      }),
    )
    await connecting
    expect(response.status).toBe(200)
    const pool = (database.db as unknown as { $client: pg.Pool }).$client
    expect(pool.totalCount).toBe(1)
    const prepared = await database.runRead((db) =>
      selectRows<{ name: string }>(db, sql`select name from pg_prepared_statements`),
    )
    expect(prepared.map(({ name }) => name)).toContain('contact_read_cluster')
  } finally {
    await database.close()
    await server.dispose()
  }
})

describe.each(SERVER_DRIVERS)('%s: a connection that cannot open', (driver) => {
  test('rejects, and leaves the statements to fail as unavailable on their own', async () => {
    const database = await openDatabase(
      readEnv({
        DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none',
        DATABASE_DRIVER: driver,
        ...(driver === 'neon-http' ? { NEON_HTTP_ENDPOINT: 'http://127.0.0.1:1/sql' } : {}),
      }),
    )
    try {
      const connecting = database.connect?.()
      const read = readClock(database).catch((error: unknown) => error)
      await expect(connecting).rejects.toBeDefined()
      expect(classifyDatabaseError(await read)).toBe('unavailable')
    } finally {
      await database.close()
    }
  })
})
