/**
 * What the rest of the service sees of a database, whichever driver is behind it: a Drizzle
 * handle, one way to run statements as a single transaction, and rows of plain SQL.
 */
import { type SQL, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { Driver } from '../platform/env.js'

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
   * Runs the one statement `read` issues on the handle it is given and returns its result, in one
   * round trip on every server driver, with JIT off (`DISABLE_JIT`). `read` must issue it when
   * called, as Drizzle's queries do. Every read the service makes goes through here.
   */
  runRead<T>(read: (db: Db) => Promise<T>): Promise<T>
  /**
   * Drivers with interactive transactions only (not Neon's HTTP driver): runs `work` in one READ
   * COMMITTED transaction on the handle it is given, committing when it resolves.
   */
  runTransaction?: <T>(work: (db: Db) => Promise<T>) => Promise<T>
  /**
   * Server drivers only: opens a connection before the first statement needs it, and runs
   * `warmUp` on it: a statement the first request will send, so the server has its session set
   * up, its catalog loaded and the statement parsed by then (lib/compose.ts, `composeFunction`).
   * Statements issued meanwhile wait for it rather than open another connection.
   */
  connect?: (warmUp?: WarmUp) => Promise<void>
  /** Applies the committed migrations in `drizzle/`. */
  migrate(): Promise<void>
  close(): Promise<void>
}

/** A statement run on a connection as it opens (`Database.connect`); its result is dropped. */
export type WarmUp = (db: Db) => Promise<unknown>

/**
 * Returns a driver's `connect`, which opens a connection with `open` once at a time, and
 * `afterOpening`, which runs a statement once no such opening is under way (whether it succeeded
 * or not: a statement that needs a connection that could not open fails on its own).
 */
export function gateOnOpening(open: (warmUp?: WarmUp) => Promise<void>) {
  let opening: Promise<void> | undefined
  return {
    connect: (warmUp?: WarmUp) => {
      opening ??= open(warmUp).finally(() => {
        opening = undefined
      })
      return opening
    },
    afterOpening: <T>(run: () => Promise<T>): Promise<T> =>
      opening === undefined ? run() : opening.then(run, run),
  }
}

/** Where the committed migrations live, wherever the process was started. */
export const MIGRATIONS_FOLDER = new URL('../../drizzle', import.meta.url)

/**
 * Distributions ship PostgreSQL with LLVM JIT on, and the planner estimates the recursive cluster
 * read at ten times the rows of each step before, compounded: past `jit_above_cost` at a million
 * rows, so every request paid 10-500 ms of compiling for statements that run in about 1 ms. So on
 * every server driver each statement the service sends runs in a transaction whose first statement
 * turns JIT off until it ends, functions it calls included. A utility statement is never planned,
 * so never compiled itself. It needs no server setting, holds behind a transaction pooler (unlike
 * a session SET or a startup option, which PgBouncer refuses or drops), and rides in the same
 * round trip (docs/decisions/010-jit.md). PGlite has no JIT (WebAssembly).
 */
export const DISABLE_JIT = 'set local jit = off'

/** Connecting is bounded, so a database that is down is reported quickly rather than hanging. */
export const CONNECT_TIMEOUT_MS = 5_000

/**
 * Returns the rows of `query` run on `db`. Every driver answers `execute` with `{ rows }`, but
 * Drizzle types it per driver; this is the one place that says so.
 */
export async function selectRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] }
  return result.rows
}

/**
 * Returns `values` as one array parameter of `type`, however many there are: one bind parameter
 * per element would wrap the protocol's 16-bit count past 65,535. node-postgres, Neon's driver
 * and PGlite all send a JavaScript array as the text of an array literal, quoting each element
 * (tests/large-customers.integration.test.ts).
 */
export const toSqlArray = (values: readonly (string | number)[], type: 'text' | 'integer'): SQL =>
  sql`${sql.param(values)}::${sql.raw(type)}[]`

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
