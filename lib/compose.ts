/**
 * Builds the service from its parts, once: the Vercel functions in api/, `npm start` and the
 * tests all compose it here, so what they serve cannot differ.
 */
import { createConsoleHandler } from './console/assets.js'
import { DEFAULT_SHARING_LIMITS, type SharingLimits } from './core/blocklist.js'
import type { Database } from './db/database.js'
import { openDatabase } from './db/open.js'
import { createExplainHandler } from './explain/handler.js'
import { EXPLAIN_OPERATIONS } from './explain/operations.js'
import { createExplainStore } from './explain/store.js'
import { DEVELOPMENT_ERASURE_KEY, toGuardConfig } from './guard/config.js'
import {
  createBlockedIdentifiersHandler,
  createCustomerErasureHandler,
  createIdentifiersHandler,
} from './guard/handler.js'
import { DEFAULT_MATCH_KEYS, type MatchKeyConfig, toKeyVersion } from './guard/match-keys.js'
import { GUARD_OPERATIONS } from './guard/operations.js'
import { blockValue, type GuardDeps } from './guard/shell.js'
import { createHealthHandler } from './health/handler.js'
import { HEALTH_OPERATIONS } from './health/operations.js'
import { createApp } from './http/app.js'
import { type AuthMode, toAuthMode } from './http/auth.js'
import type { Handler } from './http/endpoint.js'
import { createOpenApiHandler, OPENAPI_OPERATIONS, toOpenApiDocument } from './http/openapi.js'
import type { RouteName } from './http/routes.js'
import { createIdentifyHandler, type IdentifyDeps } from './identify/handler.js'
import { IDENTIFY_OPERATIONS } from './identify/operations.js'
import type { ContactStore } from './identify/shell.js'
import { createContactStore } from './identify/store.js'
import { createEventsHandler } from './ledger/handler.js'
import { LEDGER_OPERATIONS } from './ledger/operations.js'
import { createCustomersHandler } from './lookup/handler.js'
import { LOOKUP_OPERATIONS } from './lookup/operations.js'
import { createCustomerStore } from './lookup/store.js'
import type { Env } from './platform/env.js'
import { consoleLogger, type Logger } from './platform/log.js'
import { deliverAfterResponse, toWebhookConfig } from './webhooks/config.js'
import type { WebhookConfig } from './webhooks/deliver.js'
import { createWebhooksHandler } from './webhooks/handler.js'
import { WEBHOOKS_OPERATIONS } from './webhooks/operations.js'

const API_INFO = {
  title: 'Identity reconciliation',
  version: '1',
  description:
    "Tells an online store which of its orders belong to the same customer. The checkout calls POST /identify with the checkout's key; the admin API (lookups, explain, events) takes the admin keys.",
}

/** Every handler of the service; `app` routes to all of them, as `npm start` serves it. */
export type Service = Record<RouteName, Handler> & { app: Handler }

/** What the service is built from; tests pass real databases, their own loggers and clocks. */
export type ServiceParts = {
  /** The database, opened on first use by whoever needs it. */
  database: () => Promise<Database>
  identifyAuth: AuthMode
  /** Who may use the admin API (lookups, explain, events): never the checkout's keys. */
  adminAuth: AuthMode
  /** The store's webhook, when one is configured. */
  webhook?: WebhookConfig | null
  /** Who may run a webhook delivery: Vercel's cron (CRON_SECRET) or an admin. */
  cronAuth?: AuthMode
  logger?: Logger
  /** The identify handler's clock, retries and deadline. */
  identify?: Omit<IdentifyDeps, 'store' | 'auth' | 'logger'>
  /** How identifiers are matched, and when a shared one is quarantined (the guard). */
  guard?: {
    matchKeys?: MatchKeyConfig
    sharingLimits?: SharingLimits
    /** The key erasure hashes erased values with (ERASURE_KEY). */
    erasureKey?: string
  }
  overviewHtml?: string
  /** The folder of the built staff console (scripts/console-bundle.ts), served at /console. */
  consoleDirectory?: string
}

/** Returns every handler over `parts`; each handler is built when first called. */
export function composeService(parts: ServiceParts): Service {
  const logger = parts.logger ?? consoleLogger
  const matchKeys = parts.guard?.matchKeys ?? DEFAULT_MATCH_KEYS
  const sharingLimits = parts.guard?.sharingLimits ?? DEFAULT_SHARING_LIMITS
  const keyVersion = toKeyVersion(matchKeys)
  let store: Promise<ContactStore> | undefined
  const openStore = () => {
    store ??= parts.database().then(
      (database) => createContactStore(database, keyVersion),
      (error: unknown) => {
        store = undefined
        throw error
      },
    )
    return store
  }
  const openGuard = async (): Promise<GuardDeps> => ({
    database: await parts.database(),
    erasureKey: parts.guard?.erasureKey ?? DEVELOPMENT_ERASURE_KEY,
    ...(parts.identify?.now === undefined ? {} : { now: parts.identify.now }),
  })
  const identify = lazily(() =>
    createIdentifyHandler({
      ...parts.identify,
      store: openStore,
      auth: parts.identifyAuth,
      logger,
      matchKeys,
      sharingLimits,
      quarantine: async (refs, requestId) => {
        const guard = await openGuard()
        for (const ref of refs) {
          const result = await blockValue(guard, { ...ref, value: ref.key }, 'auto', { requestId })
          if (!result.ok) throw new QuarantineRefusedError(result.error)
          logger.info({
            msg: 'quarantined',
            requestId,
            kind: ref.kind,
            customers: result.splits.length,
          })
        }
      },
    }),
  )
  const health = lazily(() => createHealthHandler({ database: parts.database, logger }))
  let isAdminAccessLogged = false
  const admin = (build: () => Handler) =>
    lazily(() => {
      if (!isAdminAccessLogged) logAdminAccess(parts.adminAuth, logger)
      isAdminAccessLogged = true
      return build()
    })
  const guardDeps = { guard: openGuard, matchKeys, auth: parts.adminAuth, logger }
  const lookup = admin(() =>
    createCustomersHandler({
      store: async () => createCustomerStore(await parts.database(), matchKeys),
      auth: parts.adminAuth,
      logger,
    }),
  )
  const erasure = admin(() => createCustomerErasureHandler(guardDeps))
  // One function serves both: a lookup reads a customer, an erasure removes it.
  const customers: Handler = (request) =>
    request.method === 'DELETE' ? erasure(request) : lookup(request)
  const blockedIdentifiers = admin(() => createBlockedIdentifiersHandler(guardDeps))
  const identifiers = admin(() => createIdentifiersHandler(guardDeps))
  const explain = admin(() =>
    createExplainHandler({
      store: async () => createExplainStore(await parts.database()),
      auth: parts.adminAuth,
      logger,
    }),
  )
  const events = admin(() =>
    createEventsHandler({ database: parts.database, auth: parts.adminAuth, logger }),
  )
  const webhooks = lazily(() =>
    createWebhooksHandler({
      database: parts.database,
      config: parts.webhook ?? null,
      auth: parts.cronAuth ?? parts.adminAuth,
      logger,
    }),
  )
  const openapi = lazily(() =>
    createOpenApiHandler(
      () =>
        toOpenApiDocument(
          [
            ...IDENTIFY_OPERATIONS,
            ...LOOKUP_OPERATIONS,
            ...EXPLAIN_OPERATIONS,
            ...GUARD_OPERATIONS,
            ...LEDGER_OPERATIONS,
            ...WEBHOOKS_OPERATIONS,
            ...HEALTH_OPERATIONS,
            ...OPENAPI_OPERATIONS,
          ],
          API_INFO,
        ),
      logger,
    ),
  )
  const handlers = {
    identify,
    health,
    customers,
    explain,
    'blocked-identifiers': blockedIdentifiers,
    identifiers,
    events,
    webhooks,
    openapi,
  }
  const app = lazily(() =>
    createApp({
      ...handlers,
      overviewHtml: parts.overviewHtml ?? '',
      console:
        parts.consoleDirectory === undefined
          ? undefined
          : createConsoleHandler(parts.consoleDirectory),
    }),
  )
  return { ...handlers, app }
}

/**
 * Returns the service as the environment configures it, with this process's one database,
 * opened on first use and reused after; an open that failed is tried again on the next call.
 */
export function composeFromEnv(env: Env, parts: Partial<ServiceParts> = {}): Service {
  let opened: Promise<Database> | undefined
  const database =
    parts.database ??
    (() => {
      opened ??= openDatabase(env).catch((error: unknown) => {
        opened = undefined
        throw error
      })
      return opened
    })
  const webhook = toWebhookConfig(env)
  const guard = toGuardConfig(env)
  return composeService({
    database,
    identifyAuth: toAuthMode(env.IDENTIFY_API_KEYS, env.VERCEL_ENV),
    adminAuth: toAuthMode(env.ADMIN_API_KEYS, env.VERCEL_ENV, 'ADMIN_API_KEYS'),
    webhook,
    cronAuth: toAuthMode(
      [env.ADMIN_API_KEYS, env.CRON_SECRET].filter((keys) => keys !== undefined).join(','),
      env.VERCEL_ENV,
      'ADMIN_API_KEYS or CRON_SECRET',
    ),
    guard,
    ...parts,
    identify: {
      deadlineMs: env.REQUEST_DEADLINE_MS,
      ...(webhook !== null && env.VERCEL === '1'
        ? { afterChange: () => deliverAfterResponse(() => database(), webhook, consoleLogger) }
        : {}),
      ...parts.identify,
    },
  })
}

// Says once, when the first admin handler is built, how the admin API is guarded: an open one
// is a warning, since it lets anyone read every customer.
function logAdminAccess(auth: AuthMode, logger: Logger): void {
  if (auth.kind === 'refusing') {
    logger.error({
      msg: 'the admin API refuses every call: ADMIN_API_KEYS is not set in production',
    })
  } else if (auth.kind === 'open') {
    logger.error({ msg: 'the admin API is open to anyone: set ADMIN_API_KEYS' })
  } else {
    logger.info({ msg: 'admin access', mode: 'API keys' })
  }
}

/** A quarantine the database refused; carries the SQLSTATE identify's retries classify. */
class QuarantineRefusedError extends Error {
  readonly code: string
  constructor(failure: string) {
    super(`Quarantining a shared value failed: ${failure}`)
    this.name = 'QuarantineRefusedError'
    this.code = failure === 'conflict' ? '40001' : failure === 'unavailable' ? '08006' : '55P03'
  }
}

// A handler built from `build` on its first request, and reused after.
function lazily(build: () => Handler): Handler {
  let handler: Handler | undefined
  return (request) => {
    handler ??= build()
    return handler(request)
  }
}
