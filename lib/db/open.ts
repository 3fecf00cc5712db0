/**
 * The one module that owns the database drivers (README, Decisions: "Drivers"). Everything else
 * sees a `Database`: a Drizzle handle plus the one way to run statements as a single transaction.
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { neon, neonConfig } from '@neondatabase/serverless'
import { sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { drizzle as drizzleNeonHttp } from 'drizzle-orm/neon-http'
import { drizzle as drizzleNodePostgres } from 'drizzle-orm/node-postgres'
import { migrate as migrateNodePostgres } from 'drizzle-orm/node-postgres/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import pg from 'pg'
import type { Driver, Env } from '../platform/env.js'

/** A Drizzle handle, whichever driver is behind it. */
export type Db = PgDatabase<PgQueryResultHKT>

/** A statement built on the handle given to a batch; it runs when first awaited. */
export type BatchStatement = BatchItem<'pg'> & PromiseLike<unknown>

/** An open database: a handle for single statements and a way to run several as one. */
export type Database = {
  driver: Driver
  db: Db
  /**
   * Runs the statements `build` returns as one READ COMMITTED transaction (one round trip on Neon's
   * HTTP driver) and returns their results in order; nothing is written if any statement fails.
   */
  runBatch(build: (db: Db) => BatchStatement[]): Promise<unknown[]>
  /**
   * Drivers with interactive transactions only (not Neon's HTTP driver): runs `work` in one READ
   * COMMITTED transaction on the handle it is given, committing when it resolves.
   */
  runTransaction?: <T>(work: (db: Db) => Promise<T>) => Promise<T>
  /** Applies the committed migrations in `drizzle/`. */
  migrate(): Promise<void>
  close(): Promise<void>
}

// Where the committed migrations live, wherever the process was started.
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))

// Connecting is bounded so a database that is down is reported quickly rather than hanging.
const CONNECT_TIMEOUT_MS = 5_000

/** Returns the driver the environment selects (see `.env.example`). */
export function chooseDriver(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_DRIVER'>): Driver {
  if (env.DATABASE_DRIVER !== undefined) return env.DATABASE_DRIVER
  if (env.DATABASE_URL === undefined) return 'pglite'
  const host = new URL(env.DATABASE_URL).hostname
  return host.endsWith('.neon.tech') || host.endsWith('.neon.build') ? 'neon-http' : 'node-postgres'
}

/** Opens the database the environment selects. */
export async function openDatabase(env: Env): Promise<Database> {
  const driver = chooseDriver(env)
  switch (driver) {
    case 'neon-http':
      return openNeonHttp(
        requireUrl(env),
        env.NEON_HTTP_ENDPOINT,
        env.DATABASE_STATEMENT_TIMEOUT_MS,
      )
    case 'node-postgres':
      return openNodePostgres(
        requireUrl(env),
        env.DATABASE_POOL_SIZE,
        env.DATABASE_STATEMENT_TIMEOUT_MS,
      )
    case 'pglite':
      return openPglite(env.PGLITE_DATA_DIR)
  }
}

function requireUrl(env: Env): string {
  if (env.DATABASE_URL === undefined) throw new Error('DATABASE_URL is required by this driver')
  return env.DATABASE_URL
}

function openNeonHttp(url: string, endpoint: string | undefined, timeoutMs: number): Database {
  // Neon's documented way to develop against a local SQL-over-HTTP proxy; global in the driver.
  if (endpoint !== undefined) neonConfig.fetchEndpoint = endpoint
  // Every round trip is bounded. A batch that timed out may still have committed; the client's
  // retry then finds the customer already written and answers as usual.
  neonConfig.fetchFunction = (input: string, init: RequestInit) =>
    fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  // Without an explicit level the batch would run at whatever the server defaults to; the write
  // protocol needs READ COMMITTED so its check sees rows committed while it waited for locks.
  const db = drizzleNeonHttp({ client: neon(url, { isolationLevel: 'ReadCommitted' }) })
  return {
    driver: 'neon-http',
    db: db as unknown as Db,
    async runBatch(build) {
      const [first, ...rest] = build(db as unknown as Db)
      if (first === undefined) return []
      return db.batch([first, ...rest])
    },
    migrate: () => migrateOverTcp(url),
    close: async () => {},
  }
}

function openNodePostgres(url: string, poolSize: number, timeoutMs: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // The server cancels a statement that runs longer (57014, answered 503).
    statement_timeout: timeoutMs,
    // A client sends queries as they are issued, without waiting for the answer to the one
    // before: a write batch's statements then cross the network together (runPipelined).
    pipeline: true,
  })
  // A client whose backend dies (server restart, pg_terminate_backend) emits 'error': the pool
  // re-emits it for idle clients, nothing does for one in use. Unheard, either crashes the
  // process. The query in flight fails on its own, and the pool discards the dead client.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = drizzleNodePostgres({ client: pool })
  return {
    driver: 'node-postgres',
    db,
    runTransaction: (work) => runPooledTransaction(pool, work),
    runBatch: (build) => runPooledTransaction(pool, (tx) => runPipelined(build(tx))),
    migrate: () => migrateOverTcp(url),
    close: () => pool.end(),
  }
}

/**
 * Runs `work` in one READ COMMITTED transaction on a client of `pool`: commits when it resolves,
 * rolls back when it throws. The client goes back to the pool only once a commit or rollback has
 * answered; otherwise it is discarded, whatever step failed (Drizzle's own transaction never
 * releases a client whose `begin` failed, and the pool loses that slot for good).
 */
async function runPooledTransaction<T>(pool: pg.Pool, work: (db: Db) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  // Set once a commit or rollback has answered: only then is the client known to be reusable.
  let isIdle = false
  try {
    await client.query('begin isolation level read committed')
    let result: T
    try {
      result = await work(drizzleNodePostgres({ client }))
    } catch (error) {
      await client.query('rollback').then(
        () => {
          isIdle = true
        },
        () => {},
      )
      throw error
    }
    await client.query('commit')
    isIdle = true
    return result
  } finally {
    client.release(!isIdle)
  }
}

/**
 * Sends `statements` in one pipeline (the pool's clients pipeline) and returns their results once
 * all have answered, or throws the first failure. The caller's commit then waits for every answer:
 * the server aborts the transaction on a failing statement, but one that pg refuses before sending
 * it (a parameter it cannot serialise) aborts nothing, so a commit pipelined behind it would
 * commit the rest.
 */
async function runPipelined(statements: BatchStatement[]): Promise<unknown[]> {
  // Calling `then` issues a statement at once (Drizzle's statements are lazy), in this order.
  const settled = await Promise.all(
    statements.map((statement) =>
      statement.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    ),
  )
  const failure = settled.find((result) => !result.ok)
  if (failure !== undefined) throw failure.error
  return settled.map((result) => (result.ok ? result.value : undefined))
}

/**
 * Applies the migrations over one plain TCP connection, for every server driver: Drizzle's
 * node-postgres migrator runs them all in one transaction, so a failure leaves nothing half-done
 * (Neon's HTTP migrator runs statement by statement). A session lock makes concurrent deployments
 * queue, and no statement timeout applies: an index build on a large table may take a while.
 */
async function migrateOverTcp(url: string): Promise<void> {
  const client = new pg.Client({
    connectionString: toDirectUrl(url),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  await client.connect()
  try {
    await client.query(`select pg_advisory_lock(hashtext('Contact.migrations'))`)
    await migrateNodePostgres(drizzleNodePostgres({ client }), {
      migrationsFolder: MIGRATIONS_FOLDER,
    })
  } finally {
    await client.end()
  }
}

/**
 * Returns `url` without Neon's connection pooler: a `-pooler` endpoint (what Neon's Vercel
 * integration hands out) runs PgBouncer in transaction mode, where a session lock does not hold.
 */
export function toDirectUrl(url: string): string {
  const parsed = new URL(url)
  if (!parsed.hostname.endsWith('.neon.tech')) return url
  parsed.hostname = parsed.hostname.replace(/-pooler\./, '.')
  return parsed.toString()
}

async function openPglite(dataDir: string): Promise<Database> {
  // Loaded only here, so deployments that never use the embedded database never load it.
  const [{ PGlite }, { drizzle }, { migrate }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ])
  const inMemory = dataDir === 'memory://'
  // PGlite creates its own folder but not its parents (.data/ on a fresh clone).
  if (!inMemory) mkdirSync(dataDir, { recursive: true })
  const client = inMemory ? new PGlite() : new PGlite(dataDir)
  const db = drizzle({ client })
  return {
    driver: 'pglite',
    db,
    ...interactiveTransactions(db),
    migrate: () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.close(),
  }
}

// PGlite is one in-process connection, with no pool to leak from, so Drizzle's own transactions
// serve; a batch runs in one, statement by statement. Statements must be built on the handle
// given, or they would run outside the transaction.
function interactiveTransactions(db: {
  transaction: Db['transaction']
}): Pick<Database, 'runBatch' | 'runTransaction'> {
  const runTransaction = <T>(work: (db: Db) => Promise<T>) =>
    db.transaction((tx) => work(tx), { isolationLevel: 'read committed' })
  return {
    runTransaction,
    runBatch: (build) => runTransaction((tx) => runInOrder(build(tx))),
  }
}

/** Runs `statements` one after another, each once the one before has answered; returns results. */
export async function runInOrder(statements: BatchStatement[]): Promise<unknown[]> {
  const results: unknown[] = []
  for (const statement of statements) results.push(await statement)
  return results
}

/** Checks that the database answers a trivial query. */
export async function pingDatabase(database: Database): Promise<void> {
  await database.db.execute(sql`select 1`)
}

let shared: Promise<Database> | undefined

/**
 * Returns this process's database, opened from the environment on first use and reused after;
 * an open that failed is tried again on the next call.
 */
export function sharedDatabase(env: Env): Promise<Database> {
  shared ??= openDatabase(env).catch((error: unknown) => {
    shared = undefined
    throw error
  })
  return shared
}
