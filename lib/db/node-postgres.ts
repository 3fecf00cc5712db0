/** node-postgres over TCP: a pool of pipelining connections, and transactions run on one of them. */
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import {
  type BatchStatement,
  CONNECT_TIMEOUT_MS,
  type Database,
  type Db,
  DISABLE_JIT,
} from './database.js'
import { assertBeforeDeadline, boundTimeout, timeLeftMs } from './deadline.js'
import { migrateOverTcp } from './migrate.js'

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
  pool.on('connect', (client) => client.on('error', () => {}))
  return {
    driver: 'node-postgres',
    db: drizzle({ client: pool }),
    runTransaction: (work) => runPooledTransaction(pool, timeoutMs, work),
    runBatch: (build) => runPooledTransaction(pool, timeoutMs, (tx) => runPipelined(build(tx))),
    runRead: (read) => runPipelinedRead(pool, timeoutMs, read),
    migrate: () => migrateOverTcp(url),
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

// Every transaction begins with JIT off (lib/db/database.ts), and, within a deadline, lets each
// statement run for as long as was left of it when the transaction began (else the pool's
// statement_timeout). All in the `begin` message (the simple protocol takes several statements):
// no round trip more.
function toBeginStatement(timeoutMs: number): string {
  const begin = `begin isolation level read committed; ${DISABLE_JIT}`
  if (timeLeftMs() === Number.POSITIVE_INFINITY) return begin
  return `${begin}; set local statement_timeout = ${boundTimeout(timeoutMs)}`
}

/**
 * Runs the one statement `read` issues in a READ COMMITTED transaction of its own behind
 * DISABLE_JIT, on a client of `pool`. Begin with the setting, the statement and commit leave in
 * one flight (the pool's clients pipeline): the round trip of the statement alone. A failed
 * statement makes the commit a rollback; the client goes back to the pool once either answered.
 */
async function runPipelinedRead<T>(
  pool: pg.Pool,
  timeoutMs: number,
  read: (db: Db) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let isIdle = false
  try {
    const steps = await settleInOrder([
      client.query(toBeginStatement(timeoutMs)),
      issue(() => read(toClientHandle(client))),
      client.query('commit'),
    ])
    isIdle = steps[2]?.ok === true
    for (const step of steps) if (!step.ok) throw step.error
    return (steps[1] as { value: T }).value
  } finally {
    client.release(!isIdle)
  }
}

// One handle per pooled connection, so what is prepared on a handle (the cluster read) is built
// once per connection, as the server parses it.
const clientHandles = new WeakMap<pg.PoolClient, Db>()
function toClientHandle(client: pg.PoolClient): Db {
  let handle = clientHandles.get(client)
  if (handle === undefined) {
    handle = drizzle({ client })
    clientHandles.set(client, handle)
  }
  return handle
}

// Calls `send` now, so its statement is issued before the next one; a synchronous throw becomes
// a rejection, so the statements issued before it are still awaited.
function issue<T>(send: () => Promise<T>): Promise<T> {
  try {
    return send()
  } catch (error) {
    return Promise.reject(error)
  }
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
