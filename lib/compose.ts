/**
 * Builds the service from its parts, once: the Vercel functions in api/, `npm start` and the
 * tests all compose it here, so what they serve cannot differ.
 */
import { DEFAULT_SHARING_LIMITS, type SharingLimits } from './core/blocklist.js'
import type { Database, WarmUp } from './db/database.js'
import { openDatabase } from './db/open.js'
import { DEVELOPMENT_ERASURE_KEY, toGuardConfig } from './guard/config.js'
import type { MatchKeyConfig } from './guard/match-keys.js'
import type { GuardDeps } from './guard/shell.js'
import { type AuthMode, toAuthMode } from './http/auth.js'
import type { Handler } from './http/endpoint.js'
import type { RouteName } from './http/routes.js'
import type { IdentifyDeps } from './identify/handler.js'
import type { ContactStore } from './identify/shell.js'
import { type Env, readEnv } from './platform/env.js'
import { consoleLogger, type Logger } from './platform/log.js'
import { createDeliveryAfterResponse, toWebhookConfig } from './webhooks/config.js'
import type { WebhookConfig } from './webhooks/deliver.js'

// Every handler's module is imported when the handler is first built, never here: each Vercel
// function is bundled from this file (scripts/bundle-functions.ts), and a static import would put
// every capability's code into every function's cold start (docs/decisions/013-cold-start.md).

const API_INFO = {
  title: 'Identity reconciliation',
  version: '1',
  description:
    "Tells an online store which of its orders belong to the same customer. The checkout calls POST /identify with the checkout's key; the admin API (lookups, explain, events) takes the admin keys.",
}

// What a route's first request sends first, run with no keys (so it matches nothing) on the
// connection a cold function opens: identify's cluster read, prepared there by name, as the
// request's own read is (lib/identify/cluster-read.ts).
const WARM_UPS: Partial<Record<RouteName, WarmUp>> = {
  identify: async (db) => {
    const { toPreparedRead } = await import('./identify/cluster-read.js')
    return toPreparedRead(db).execute({ emailKey: null, phoneKey: null })
  },
}

/** Every handler of the service; `app` routes to all of them, as `npm start` serves it. */
export type Service = Record<RouteName, Handler> & {
  app: Handler
  /**
   * Opens the database and a connection to it ahead of the first request `route` will serve,
   * with that request's first statement warmed up on it where it is known.
   */
  connect: (route?: RouteName) => Promise<void>
  /**
   * For the build's code-cache run only (scripts/write-code-cache.ts): runs what `route`'s first
   * request runs beyond the build's own request, sending nothing to the database (identify: its
   * rehearsal, lib/identify/rehearsal.ts), so that V8 has compiled it when the cache is written.
   */
  rehearse: (route: RouteName) => Promise<void>
}

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
  /** The folder of the built staff console (scripts/build-console.ts), served at /console. */
  consoleDirectory?: string
}

/** Returns every handler over `parts`; each handler is built when first called. */
export function composeService(parts: ServiceParts): Service {
  const logger = parts.logger ?? consoleLogger
  const sharingLimits = parts.guard?.sharingLimits ?? DEFAULT_SHARING_LIMITS
  // The match-key rules carry the phone metadata: loaded with the first handler that needs them.
  const loadMatchKeys = async () => {
    const { DEFAULT_MATCH_KEYS, toKeyVersion } = await import('./guard/match-keys.js')
    const matchKeys = parts.guard?.matchKeys ?? DEFAULT_MATCH_KEYS
    return { matchKeys, keyVersion: toKeyVersion(matchKeys) }
  }
  let store: Promise<ContactStore> | undefined
  const openStore = () => {
    store ??= Promise.all([parts.database(), import('./identify/store.js'), loadMatchKeys()])
      .then(([database, module, { keyVersion }]) => module.createContactStore(database, keyVersion))
      .catch((error: unknown) => {
        store = undefined
        throw error
      })
    return store
  }
  const openGuard = async (): Promise<GuardDeps> => ({
    database: await parts.database(),
    erasureKey: parts.guard?.erasureKey ?? DEVELOPMENT_ERASURE_KEY,
    ...(parts.identify?.now === undefined ? {} : { now: parts.identify.now }),
  })
  const identify = lazily(async () => {
    // The store (its module, the driver's) loads while the handler's does; a failure to open is
    // left to the request, which opens it again and answers 503.
    openStore().catch(() => {})
    const [{ createIdentifyHandler }, { matchKeys }] = await Promise.all([
      import('./identify/handler.js'),
      loadMatchKeys(),
    ])
    return createIdentifyHandler({
      ...parts.identify,
      store: openStore,
      auth: parts.identifyAuth,
      logger,
      matchKeys,
      sharingLimits,
      quarantine: async (refs, requestId) => {
        const { blockValue } = await import('./guard/shell.js')
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
    })
  })
  const health = lazily(async () => {
    const { createHealthHandler } = await import('./health/handler.js')
    return createHealthHandler({ database: parts.database, logger })
  })
  let isAdminAccessLogged = false
  const admin = (build: () => Promise<Handler>) =>
    lazily(() => {
      if (!isAdminAccessLogged) logAdminAccess(parts.adminAuth, logger)
      isAdminAccessLogged = true
      return build()
    })
  const guardHandler = (
    name:
      | 'createBlockedIdentifiersHandler'
      | 'createIdentifiersHandler'
      | 'createCustomerErasureHandler',
  ) =>
    admin(async () => {
      const [module, { matchKeys }] = await Promise.all([
        import('./guard/handler.js'),
        loadMatchKeys(),
      ])
      return module[name]({ guard: openGuard, matchKeys, auth: parts.adminAuth, logger })
    })
  const lookup = admin(async () => {
    const { createCustomersHandler } = await import('./lookup/handler.js')
    const { createCustomerStore } = await import('./lookup/store.js')
    const { matchKeys } = await loadMatchKeys()
    return createCustomersHandler({
      store: async () => createCustomerStore(await parts.database(), matchKeys),
      auth: parts.adminAuth,
      logger,
    })
  })
  const erasure = guardHandler('createCustomerErasureHandler')
  // One function serves both: a lookup reads a customer, an erasure removes it.
  const customers: Handler = (request) =>
    request.method === 'DELETE' ? erasure(request) : lookup(request)
  const explain = admin(async () => {
    const { createExplainHandler } = await import('./explain/handler.js')
    const { createExplainStore } = await import('./explain/store.js')
    return createExplainHandler({
      store: async () => createExplainStore(await parts.database()),
      auth: parts.adminAuth,
      logger,
    })
  })
  const events = admin(async () => {
    const { createEventsHandler } = await import('./ledger/handler.js')
    return createEventsHandler({ database: parts.database, auth: parts.adminAuth, logger })
  })
  const webhooks = lazily(async () => {
    const { createWebhooksHandler } = await import('./webhooks/handler.js')
    return createWebhooksHandler({
      database: parts.database,
      config: parts.webhook ?? null,
      auth: parts.cronAuth ?? parts.adminAuth,
      logger,
    })
  })
  const openapi = lazily(async () => {
    const { createOpenApiHandler, OPENAPI_OPERATIONS, toOpenApiDocument } = await import(
      './http/openapi.js'
    )
    const operations = await Promise.all([
      import('./identify/operations.js').then((module) => module.IDENTIFY_OPERATIONS),
      import('./lookup/operations.js').then((module) => module.LOOKUP_OPERATIONS),
      import('./explain/operations.js').then((module) => module.EXPLAIN_OPERATIONS),
      import('./guard/operations.js').then((module) => module.GUARD_OPERATIONS),
      import('./ledger/operations.js').then((module) => module.LEDGER_OPERATIONS),
      import('./webhooks/operations.js').then((module) => module.WEBHOOKS_OPERATIONS),
      import('./health/operations.js').then((module) => module.HEALTH_OPERATIONS),
    ])
    return createOpenApiHandler(
      () => toOpenApiDocument([...operations.flat(), ...OPENAPI_OPERATIONS], API_INFO),
      logger,
    )
  })
  const handlers = {
    identify,
    health,
    customers,
    explain,
    'blocked-identifiers': guardHandler('createBlockedIdentifiersHandler'),
    identifiers: guardHandler('createIdentifiersHandler'),
    events,
    webhooks,
    openapi,
  }
  const app = lazily(async () => {
    const { createApp } = await import('./http/app.js')
    const console =
      parts.consoleDirectory === undefined
        ? undefined
        : (await import('./console/assets.js')).createConsoleHandler(parts.consoleDirectory)
    return createApp({ ...handlers, overviewHtml: parts.overviewHtml ?? '', console })
  })
  const connect = async (route?: RouteName) => {
    const database = await parts.database()
    await database.connect?.(route === undefined ? undefined : WARM_UPS[route])
  }
  const rehearse = async (route: RouteName) => {
    if (route !== 'identify') return
    const [database, { rehearseIdentify }, { matchKeys, keyVersion }] = await Promise.all([
      parts.database(),
      import('./identify/rehearsal.js'),
      loadMatchKeys(),
    ])
    rehearseIdentify(database.db, matchKeys, keyVersion)
  }
  return { ...handlers, app, connect, rehearse }
}

/**
 * Returns the Vercel function serving `route` (api/*.ts): the service as the environment
 * configures it, already connecting to its database (all but the API description use one). A
 * cold function exists to answer a request that is waiting: the connection is set up while the
 * function loads and the request is read, not after (docs/decisions/013-cold-start.md). A failure
 * to connect is left to that request, which tries again and answers 503.
 */
export function composeFunction(route: RouteName): {
  fetch: Handler
  /** Settles once the connection is open and warmed up, or has failed to. */
  connected: Promise<void>
  /** The build's rehearsal of this function's first request (`Service.rehearse`). */
  rehearse: () => Promise<void>
} {
  const service = composeFromEnv(readEnv())
  const connected = route === 'openapi' ? Promise.resolve() : service.connect(route)
  return {
    fetch: service[route],
    connected: connected.catch(() => {}),
    rehearse: () => service.rehearse(route),
  }
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
        ? { afterChange: createDeliveryAfterResponse(() => database(), webhook, consoleLogger) }
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

// A handler built from `build` on its first request, and reused after; a build that failed is
// tried again on the next request. Once built, a request costs no extra await. The build starts
// one event-loop turn late: a cold function's connection (composeFunction) then sends what it has
// to send before the build's CPU work, so the server gets on with its part meanwhile.
function lazily(build: () => Handler | Promise<Handler>): Handler {
  let handler: Handler | undefined
  let building: Promise<Handler> | undefined
  return (request) => {
    if (handler !== undefined) return handler(request)
    building ??= new Promise((resolve) => setImmediate(resolve)).then(build).then(
      (built) => {
        handler = built
        return built
      },
      (error: unknown) => {
        building = undefined
        throw error
      },
    )
    return building.then((built) => built(request))
  }
}
