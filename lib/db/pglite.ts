/** PGlite: PostgreSQL compiled to WebAssembly, in this process; the embedded local database. */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
import { type Database, type Db, MIGRATIONS_FOLDER, runInOrder } from './database.js'

/** Opens the database kept in `dataDir`, or a fresh one in memory for `memory://`. */
export function openPglite(dataDir: string): Database {
  const inMemory = dataDir === 'memory://'
  // PGlite creates its own folder but not its parents (.data/ on a fresh clone).
  if (!inMemory) mkdirSync(dataDir, { recursive: true })
  const client = inMemory ? new PGlite() : new PGlite(dataDir)
  const db = drizzle({ client })
  // PGlite is one in-process connection, with no pool to leak from, so Drizzle's own transactions
  // serve; a batch runs in one, statement by statement. Statements must be built on the handle
  // given, or they would run outside the transaction.
  const runTransaction = <T>(work: (db: Db) => Promise<T>) =>
    db.transaction((tx) => work(tx), { isolationLevel: 'read committed' })
  return {
    driver: 'pglite',
    db,
    runTransaction,
    runBatch: (build) => runTransaction((tx) => runInOrder(build(tx))),
    runRead: (read) => read(db),
    migrate: () => migrate(db, { migrationsFolder: fileURLToPath(MIGRATIONS_FOLDER) }),
    close: () => client.close(),
  }
}
