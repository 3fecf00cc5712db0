/** Neon's serverless driver over HTTP: one HTTP request per statement or per batch. */
import { type HTTPQueryOptions, neon, neonConfig } from '@neondatabase/serverless'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/neon-http'
import { type Database, type Db, DISABLE_JIT, gateOnOpening } from './database.js'
import { boundTimeout, timeLeftMs, toRoundTripSignal } from './deadline.js'
import { postOverNodeHttp } from './http-post.js'

/** Where one database's requests go and how long each may take; carried by each request. */
type NeonRoute = { endpoint: string | undefined; timeoutMs: number }

// The driver lets the endpoint and the fetch function be set only globally, but hands every
// request the client's own `fetchOptions`. So one fetch function, installed once, takes each
// request's route from its options: databases opened side by side (tests, a proxy and a real
// endpoint) each keep their own endpoint and timeout, whichever was opened last.
const ROUTE_OPTION = 'identityRoute'

function installRoutedFetch(): void {
  neonConfig.fetchFunction = async (
    defaultEndpoint: string,
    init: RequestInit & Record<string, unknown>,
  ) => {
    const { [ROUTE_OPTION]: route, body, headers } = init
    const { endpoint, timeoutMs } = route as NeonRoute
    // Every round trip is bounded, by the request's deadline when that comes first. A batch that
    // timed out may still have committed; the client's retry then finds the customer already
    // written and answers as usual.
    return postOverNodeHttp(endpoint ?? defaultEndpoint, {
      body: body as string,
      headers: headers as Record<string, string>,
      signal: toRoundTripSignal(timeoutMs),
    })
  }
}

/**
 * Opens `url` through Neon's HTTP driver. `endpoint` sends its requests to another
 * SQL-over-HTTP endpoint (a local Neon proxy); by default, Neon's own for the URL's host.
 */
export function openNeonHttp(
  url: string,
  endpoint: string | undefined,
  timeoutMs: number,
): Database {
  installRoutedFetch()
  const route: NeonRoute = { endpoint, timeoutMs }
  const client = neon(url, {
    // Without an explicit level the batch would run at whatever the server defaults to; the write
    // protocol needs READ COMMITTED so its check sees rows committed while it waited for locks.
    isolationLevel: 'ReadCommitted',
    fetchOptions: { [ROUTE_OPTION]: route },
  })
  const db = drizzle({ client })
  // A handle whose every statement goes as a batch behind DISABLE_JIT: still one HTTP request.
  // Drizzle calls `query` alone (its batches go through `db`), with options of its own: the
  // driver's types know only the client's defaults.
  const readDb = drizzle({
    client: {
      query: (text: string, params?: unknown[], options?: HTTPQueryOptions<false, false>) =>
        client
          .transaction([client.query(DISABLE_JIT), client.query(text, params, options)])
          .then(([, result]) => result),
    } as typeof client,
  })
  // A read of its own opens the kept-alive connection to the endpoint, and has the endpoint open
  // its own to the database.
  const { connect, afterOpening } = gateOnOpening(async (warmUp) => {
    await (warmUp ?? ((handle) => handle.execute(sql`select 1`)))(readDb as unknown as Db)
  })
  const runBatch: Database['runBatch'] = async (build) => {
    const statements = build(db as unknown as Db)
    if (statements.length === 0) return []
    const settings = [db.execute(DISABLE_JIT)]
    // Within a request's deadline, the server stops the batch there too, rather than commit it
    // after the client has given up: a setting before the statements limits them to the time
    // left. A whole number of milliseconds, so it can be written into the statement.
    if (timeLeftMs() !== Number.POSITIVE_INFINITY) {
      const limitMs = Math.max(1, Math.floor(boundTimeout(timeoutMs)))
      settings.push(db.execute(sql.raw(`set local statement_timeout = ${limitMs}`)))
    }
    const results = await db.batch([...settings, ...statements] as [
      (typeof settings)[number],
      ...typeof statements,
    ])
    return results.slice(settings.length)
  }
  return {
    driver: 'neon-http',
    db: db as unknown as Db,
    runBatch: (build) => afterOpening(() => runBatch(build)),
    runRead: (read) => afterOpening(() => read(readDb as unknown as Db)),
    connect,
    // The migrator (and, for Neon, node-postgres) loads only when migrating, not on a cold start.
    migrate: async () => (await import('./migrate.js')).migrateOverTcp(url),
    close: async () => {},
  }
}
