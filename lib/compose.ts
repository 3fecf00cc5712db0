/**
 * Builds the service from its parts, once: the Vercel functions in api/, `npm start` and the
 * tests all compose it here, so what they serve cannot differ.
 */
import type { Database } from './db/database.js'
import { openDatabase } from './db/open.js'
import { createHealthHandler } from './health/handler.js'
import { createApp } from './http/app.js'
import { type AuthMode, toAuthMode } from './http/auth.js'
import type { Handler } from './http/endpoint.js'
import { createIdentifyHandler, type IdentifyDeps } from './identify/handler.js'
import type { ContactStore } from './identify/shell.js'
import { createContactStore } from './identify/store.js'
import type { Env } from './platform/env.js'
import { consoleLogger, type Logger } from './platform/log.js'

/** Every handler of the service; `app` routes to all of them, as `npm start` serves it. */
export type Service = { identify: Handler; health: Handler; app: Handler }

/** What the service is built from; tests pass real databases, their own loggers and clocks. */
export type ServiceParts = {
  /** The database, opened on first use by whoever needs it. */
  database: () => Promise<Database>
  identifyAuth: AuthMode
  logger?: Logger
  /** The identify handler's clock, retries and deadline. */
  identify?: Omit<IdentifyDeps, 'store' | 'auth' | 'logger'>
  overviewHtml?: string
}

/** Returns every handler over `parts`; each handler is built when first called. */
export function composeService(parts: ServiceParts): Service {
  const logger = parts.logger ?? consoleLogger
  let store: Promise<ContactStore> | undefined
  const openStore = () => {
    store ??= parts.database().then(createContactStore, (error: unknown) => {
      store = undefined
      throw error
    })
    return store
  }
  const identify = lazily(() =>
    createIdentifyHandler({
      ...parts.identify,
      store: openStore,
      auth: parts.identifyAuth,
      logger,
    }),
  )
  const health = lazily(() => createHealthHandler({ database: parts.database, logger }))
  const app = lazily(() => createApp({ identify, health, overviewHtml: parts.overviewHtml ?? '' }))
  return { identify, health, app }
}

/**
 * Returns the service as the environment configures it, with this process's one database,
 * opened on first use and reused after; an open that failed is tried again on the next call.
 */
export function composeFromEnv(env: Env, parts: Partial<ServiceParts> = {}): Service {
  let database: Promise<Database> | undefined
  return composeService({
    database: () => {
      database ??= openDatabase(env).catch((error: unknown) => {
        database = undefined
        throw error
      })
      return database
    },
    identifyAuth: toAuthMode(env.IDENTIFY_API_KEYS, env.VERCEL_ENV),
    ...parts,
    identify: { deadlineMs: env.REQUEST_DEADLINE_MS, ...parts.identify },
  })
}

// A handler built from `build` on its first request, and reused after.
function lazily(build: () => Handler): Handler {
  let handler: Handler | undefined
  return (request) => {
    handler ??= build()
    return handler(request)
  }
}
