/** Applying the committed migrations to a server, whichever driver serves requests. */
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import { CONNECT_TIMEOUT_MS, MIGRATIONS_FOLDER } from './database.js'

/**
 * Applies the migrations over one plain TCP connection, for every server driver: Drizzle's
 * node-postgres migrator runs them all in one transaction, so a failure leaves nothing half-done
 * (Neon's HTTP migrator runs statement by statement). A session lock makes concurrent deployments
 * queue, and no statement timeout applies: an index build on a large table may take a while.
 */
export async function migrateOverTcp(url: string): Promise<void> {
  const client = new pg.Client({
    connectionString: toDirectUrl(url),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  await client.connect()
  try {
    await client.query(`select pg_advisory_lock(hashtext('Contact.migrations'))`)
    await migrate(drizzle({ client }), { migrationsFolder: fileURLToPath(MIGRATIONS_FOLDER) })
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
