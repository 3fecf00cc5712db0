// Drives the service the way a storefront does: Web Requests into the same app `npm start` serves.
import { composeService, type ServiceParts } from '../../lib/compose.js'
import type { Database } from '../../lib/db/database.js'
import type { Handler } from '../../lib/http/endpoint.js'
import { ROUTES, type RouteName } from '../../lib/http/routes.js'
import type { IdentifyDeps } from '../../lib/identify/handler.js'
import type { LogFields, Logger } from '../../lib/platform/log.js'

/** A handler for every route that answers with the route's name, for routing tests. */
export const stubRoutes = () =>
  Object.fromEntries(
    ROUTES.map((route) => [route.name, async () => new Response(route.name)]),
  ) as unknown as Record<RouteName, Handler>

/** A logger that keeps every line, for tests to inspect. */
export function captureLogs(): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = []
  return { lines, info: (fields) => lines.push(fields), error: (fields) => lines.push(fields) }
}

/** Returns the app over `database`, plus helpers that send requests to it. */
export function createTestClient(
  database: Database,
  deps: Partial<Omit<IdentifyDeps, 'store' | 'logger'>> = {},
  guard: ServiceParts['guard'] = {},
) {
  const logger = captureLogs()
  const { auth = { kind: 'open' }, ...identify } = deps
  const { app } = composeService({
    database: async () => database,
    identifyAuth: auth,
    adminAuth: { kind: 'open' },
    logger,
    identify,
    guard,
    overviewHtml: '<h1>overview</h1>',
  })
  const send = async (init: RequestInit & { path?: string }) => {
    const response = await app(new Request(`http://store.test${init.path ?? '/identify'}`, init))
    const text = await response.text()
    return {
      status: response.status,
      headers: response.headers,
      body: response.headers.get('content-type')?.startsWith('application/json')
        ? (JSON.parse(text) as unknown)
        : text,
    }
  }
  return {
    app,
    logger,
    send,
    /** Sends `body` as JSON with `method` to `path` (the admin API's writes). */
    json: (method: string, path: string, body?: unknown) =>
      send({
        method,
        path,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    /** POSTs `body` as JSON to /identify. */
    identify: (body: unknown, path = '/identify') =>
      send({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
  }
}
