// Real databases for tests: a fresh clone of the migrated template per suite, opened with any of
// the service's drivers (Neon's HTTP driver through the local proxy in neon-http-proxy.ts).
import type { Duplex } from 'node:stream'
import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, inject } from 'vitest'
import { createFreshDatabase, type FreshDatabase } from '../../harness/fresh-database.js'
import { startNeonHttpProxy } from '../../harness/neon-http-proxy.js'
import type { Database } from '../../lib/db/database.js'
import { openDatabase } from '../../lib/db/open.js'
import type { Driver } from '../../lib/platform/env.js'
import { readEnv } from '../../lib/platform/env.js'
import { createTestClient } from './http.js'

/** Every driver the service supports; the shared suites run once per driver. */
export const ALL_DRIVERS: Driver[] = ['node-postgres', 'neon-http', 'pglite']

/** The drivers that talk to a Postgres server, which concurrent requests can contend on. */
export const SERVER_DRIVERS: Driver[] = ['node-postgres', 'neon-http']

/** A database opened for a test, with what a test needs to inspect or tear it down. */
export type TestDatabase = Database & {
  /** node-postgres URL of the same data (null for PGlite), for direct inspection. */
  url: string | null
  /**
   * What crossed the driver's wire since the last reset: the round trips node-postgres made (its
   * statements, pipelined ones together, listed in `statements`) or the HTTP requests Neon's
   * driver sent. PGlite runs in-process and has no wire, so null.
   */
  wire: { roundTrips: () => number; statements: () => string[]; reset: () => void } | null
  /** Runs SQL on the same data outside the service's driver. */
  query: <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>
  dispose: () => Promise<void>
}

/** Creates an empty, migrated database on the test server (a clone of the template). */
export function createServerDatabase(): Promise<FreshDatabase> {
  return createFreshDatabase(inject('adminUrl'), {
    prefix: 'identity_test',
    template: inject('templateDatabase'),
  })
}

/** Opens a fresh, migrated database through `driver`, counting its round trips. */
export async function openTestDatabase(driver: Driver): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const database = await openDatabase(
      readEnv({ DATABASE_DRIVER: 'pglite', PGLITE_DATA_DIR: 'memory://' }),
    )
    await database.migrate()
    const client = (database.db as unknown as { $client: PGlite }).$client
    return {
      ...database,
      url: null,
      wire: null,
      query: async <T>(text: string, params?: unknown[]) =>
        (await client.query<T>(text, params)).rows,
      dispose: () => database.close(),
    }
  }

  const server = await createServerDatabase()
  const inspector = new pg.Pool({ connectionString: server.url, max: 2 })
  // An idle connection the server ends (a test terminating backends, or the database dropped
  // while the pool closes) emits 'error'; unheard, it fails the whole run as an unhandled error.
  inspector.on('error', () => {})
  const proxy =
    driver === 'neon-http' ? await startNeonHttpProxy({ connectionString: server.url }) : null
  const database = await openDatabase(
    readEnv({
      DATABASE_URL: server.url,
      DATABASE_DRIVER: driver,
      ...(proxy ? { NEON_HTTP_ENDPOINT: proxy.url } : {}),
    }),
  )
  let statements: string[] = []
  let roundTrips = 0
  if (driver === 'node-postgres') {
    const pool = (database.db as unknown as { $client: pg.Pool }).$client
    pool.on('connect', (client) => {
      // Counted at the socket: a round trip starts when the client writes after it has read.
      // Statements pipelined behind one another leave in one flight, before any answer arrives;
      // a statement that waits for the one before is a trip of its own.
      const { stream } = (client as unknown as { connection: { stream: Duplex } }).connection
      let hasReadSinceWrite = true
      stream.on('data', () => {
        hasReadSinceWrite = true
      })
      const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
      ;(stream as { write: unknown }).write = (...args: unknown[]) => {
        if (hasReadSinceWrite) roundTrips++
        hasReadSinceWrite = false
        return write(...args)
      }
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      ;(client as { query: unknown }).query = (...args: unknown[]) => {
        const [sent] = args as [string | { text: string }]
        statements.push(typeof sent === 'string' ? sent : sent.text)
        return query(...args)
      }
    })
  }

  return {
    ...database,
    url: server.url,
    wire: proxy
      ? { roundTrips: proxy.requests, statements: () => [], reset: proxy.resetRequests }
      : {
          roundTrips: () => roundTrips,
          statements: () => statements,
          reset: () => {
            statements = []
            roundTrips = 0
          },
        },
    query: async <T>(text: string, params?: unknown[]) =>
      (await inspector.query(text, params)).rows as T[],
    dispose: async () => {
      await database.close()
      await proxy?.close()
      await inspector.end()
      await server.drop()
    },
  }
}

/**
 * Waits until a backend of `database` other than those in `except` waits for an advisory lock,
 * and returns its pid: the moment a writer has reached a lock another transaction holds.
 */
export async function waitForAdvisoryWaiter(
  database: TestDatabase,
  except: readonly number[] = [],
): Promise<number> {
  for (let tries = 0; tries < 300; tries++) {
    const waiters = await database.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
    )
    const waiter = waiters.find(({ pid }) => !except.includes(pid))
    if (waiter !== undefined) return waiter.pid
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('no writer came to wait for an advisory lock')
}

/**
 * For a describe block: a fresh database through `driver`, opened before its tests and disposed
 * after, with the service's tables emptied before each test, and a client of the service over it.
 */
export function useTestDatabase(driver: Driver) {
  const suite = {} as { database: TestDatabase; client: ReturnType<typeof createTestClient> }
  beforeAll(async () => {
    suite.database = await openTestDatabase(driver)
    suite.client = createTestClient(suite.database)
  })
  afterAll(() => suite.database.dispose())
  beforeEach(async () => {
    await suite.database.query(
      'truncate "Contact", "ContactEvent", "BlockedIdentifier", "ErasedIdentifier" restart identity',
    )
  })
  return suite
}
