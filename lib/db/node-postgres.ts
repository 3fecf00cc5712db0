/** node-postgres over TCP: a pool of pipelining connections, and transactions run on one of them. */
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import {
  type BatchStatement,
  CONNECT_TIMEOUT_MS,
  type Database,
  type Db,
  DISABLE_JIT,
  gateOnOpening,
} from './database.js'
import { assertBeforeDeadline, boundTimeout, timeLeftMs } from './deadline.js'

/** Opens `url` with a pool of at most `poolSize` connections. */
export function openNodePostgres(url: string, poolSize: number, timeoutMs: number): Database {
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
  pool.on('connect', (client) => {
    client.on('error', () => {})
    // JIT off for the connection's whole session (lib/db/database.ts): queued before any query the
    // pool hands the client for, and pipelined with it, so it costs no round trip, once per
    // connection. A read is then one statement. Transactions also set it locally, so a write
    // stays uncompiled even behind a transaction pooler, where a session setting may not hold.
    client.query(SESSION_WITHOUT_JIT).catch(() => {})
  })
  const db = drizzle({ client: pool })
  // One client, warmed up and back in the pool; the session setting above goes first on it.
  const { connect, afterOpening } = gateOnOpening(async (warmUp) => {
    const client = await pool.connect()
    try {
      await warmUp?.(drizzle({ client }))
    } finally {
      client.release()
    }
  })
  return {
    driver: 'node-postgres',
    db,
    runTransaction: (work) => afterOpening(() => runPooledTransaction(pool, timeoutMs, work)),
    runBatch: (build) =>
      afterOpening(() => runPooledTransaction(pool, timeoutMs, (tx) => runPipelined(build(tx)))),
    runRead: (read) => afterOpening(() => read(db)),
    connect,
    // The migrator (and, for Neon, node-postgres) loads only when migrating, not on a cold start.
    migrate: async () => (await import('./migrate.js')).migrateOverTcp(url),
    close: () => pool.end(),
  }
}

/**
 * Runs `work` in one READ COMMITTED transaction on a client of `pool`: commits when it resolves,
 * rolls back when it throws. The client goes back to the pool only once a commit or rollback has
 * answered; otherwise it is discarded, whatever step failed (Drizzle's own transaction never
 * releases a client whose `begin` failed, and the pool loses that slot for good).
 *
 * Within a request's deadline, no statement outlives it, and nothing commits after it: the
 * request has been answered 503 by then, and its client told to retry.
 */
async function runPooledTransaction<T>(
  pool: pg.Pool,
  timeoutMs: number,
  work: (db: Db) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  // False from `begin` until a commit or rollback has answered: only an idle client is reusable.
  let isIdle = true
  try {
    const begin = toBeginStatement(timeoutMs)
    isIdle = false
    await client.query(begin)
    let result: T
    try {
      result = await work(drizzle({ client }))
      assertBeforeDeadline()
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

const SESSION_WITHOUT_JIT = DISABLE_JIT.replace(/^set local /, 'set ')

// Every transaction begins with JIT off (lib/db/database.ts), and, within a deadline, lets each
// statement run for as long as was left of it when the transaction began (else the pool's
// statement_timeout). All in the `begin` message (the simple protocol takes several statements):
// no round trip more.
function toBeginStatement(timeoutMs: number): string {
  const begin = `begin isolation level read committed; ${DISABLE_JIT}`
  if (timeLeftMs() === Number.POSITIVE_INFINITY) return begin
  return `${begin}; set local statement_timeout = ${boundTimeout(timeoutMs)}`
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown }

// Waits for every one of `statements`, failed or not. Calling `then` issues a Drizzle statement at
// once (they are lazy), so they are issued in this order.
const settleInOrder = (statements: PromiseLike<unknown>[]): Promise<Settled[]> =>
  Promise.all(
    statements.map((statement) =>
      statement.then(
        (value): Settled => ({ ok: true, value }),
        (error: unknown): Settled => ({ ok: false, error }),
      ),
    ),
  )

/**
 * Sends `statements` in one pipeline (the pool's clients pipeline) and returns their results once
 * all have answered, or throws the first failure. The caller's commit then waits for every answer:
 * the server aborts the transaction on a failing statement, but one that pg refuses before sending
 * it (a parameter it cannot serialise) aborts nothing, so a commit pipelined behind it would
 * commit the rest.
 */
async function runPipelined(statements: BatchStatement[]): Promise<unknown[]> {
  const settled = await settleInOrder(statements)
  const failure = settled.find((result) => !result.ok)
  if (failure !== undefined && !failure.ok) throw failure.error
  return settled.map((result) => (result.ok ? result.value : undefined))
}
