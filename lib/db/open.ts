/**
 * The one place a driver is chosen and loaded (README, Decisions: "Drivers"). Each driver's
 * module is imported only when selected, so a deployment never loads the ones it does not use.
 */
import type { Driver, Env } from '../platform/env.js'
import type { Database } from './database.js'

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
    case 'neon-http': {
      const { openNeonHttp } = await import('./neon-http.js')
      return openNeonHttp(
        requireUrl(env),
        env.NEON_HTTP_ENDPOINT,
        env.DATABASE_STATEMENT_TIMEOUT_MS,
      )
    }
    case 'node-postgres': {
      const { openNodePostgres } = await import('./node-postgres.js')
      return openNodePostgres(
        requireUrl(env),
        env.DATABASE_POOL_SIZE,
        env.DATABASE_STATEMENT_TIMEOUT_MS,
      )
    }
    case 'pglite': {
      const { openPglite } = await import('./pglite.js')
      return openPglite(env.PGLITE_DATA_DIR)
    }
  }
}

function requireUrl(env: Env): string {
  if (env.DATABASE_URL === undefined) throw new Error('DATABASE_URL is required by this driver')
  return env.DATABASE_URL
}
