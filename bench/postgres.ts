// The bench's PostgreSQL: an embedded server it starts itself (as the tests do), or the server
// BENCH_DATABASE_URL names. Every scale gets a fresh database on it, migrated from drizzle/.
import { startEmbeddedPostgres } from '../harness/embedded-postgres.js'
import { createFreshDatabase, withClient } from '../harness/fresh-database.js'

/** A running server: a maintenance URL, the settings it runs with, and how to stop it. */
export type BenchServer = {
  adminUrl: string
  isEmbedded: boolean
  /** Settings passed to an embedded server; empty for BENCH_DATABASE_URL. */
  settings: Record<string, string>
  stop: () => Promise<void>
}

// Durable commits, unlike the tests' server: the bench measures what production pays.
// pg_stat_statements counts the statements each request costs; shared_buffers holds a store of a
// million rows; max_wal_size keeps the bulk load from forcing checkpoints mid-run.
const EMBEDDED_SETTINGS: Record<string, string> = {
  fsync: 'on',
  full_page_writes: 'on',
  shared_buffers: '1GB',
  max_wal_size: '4GB',
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track_utility': 'on',
}

/** Starts an embedded PostgreSQL 17, or wraps the server at `externalUrl` (a superuser URL). */
export async function startServer(externalUrl: string | undefined): Promise<BenchServer> {
  if (externalUrl !== undefined && externalUrl !== '') {
    return { adminUrl: externalUrl, isEmbedded: false, settings: {}, stop: async () => {} }
  }
  const server = await startEmbeddedPostgres(
    Object.entries(EMBEDDED_SETTINGS).map(([key, value]) => `${key}=${value}`),
  )
  return { adminUrl: server.url, isEmbedded: true, settings: EMBEDDED_SETTINGS, stop: server.stop }
}

/** Creates an empty database with the committed migrations applied; returns its URL and a drop. */
export async function createBenchDatabase(server: BenchServer, label: string) {
  const { url, drop } = await createFreshDatabase(server.adminUrl, {
    prefix: `identity_bench_${label}`,
  })
  const hasStatements = await withClient(url, async (client) => {
    try {
      await client.query('create extension if not exists pg_stat_statements')
      await client.query('select pg_stat_statements_reset()')
      return true
    } catch {
      return false
    }
  })
  return {
    url,
    /** Whether pg_stat_statements is available to count statements per request. */
    hasStatements,
    drop,
  }
}
