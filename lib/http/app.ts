/** The local server's router: every route of ./routes.ts, plus the overview page at `/`. */
import { toErrorResponse } from './answer.js'
import type { Handler } from './endpoint.js'
import { ROUTES, type RouteName } from './routes.js'

/** The handlers the local server routes to; on Vercel, each is its own function under `api/`. */
export type Routes = Record<RouteName, Handler> & { overviewHtml: string }

/** Returns a `fetch` function that serves every route the deployed service serves. */
export function createApp(routes: Routes): Handler {
  const byPath = new Map<string, Handler>()
  for (const route of ROUTES) {
    for (const path of [route.path, ...route.aliases]) byPath.set(path, routes[route.name])
  }
  return async (request) => {
    const { pathname } = new URL(request.url)
    const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname
    const handler = byPath.get(path)
    if (handler !== undefined) return handler(request)
    if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
      return new Response(routes.overviewHtml, {
        headers: { 'content-type': 'text/html; charset=utf-8' },
      })
    }
    return toErrorResponse({ status: 404, code: 'not_found', message: `No route for ${path}` })
  }
}
