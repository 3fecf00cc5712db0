/** The local server's router: every route of ./routes.ts, plus the overview page at `/`. */

import { isConsolePath } from '../console/assets.js'
import { toErrorResponse } from './answer.js'
import type { Handler } from './endpoint.js'
import { toPathname } from './pathname.js'
import { ROUTES, type RouteName, toRewrite } from './routes.js'

/** The handlers the local server routes to; on Vercel, each is its own function under `api/`. */
export type Routes = Record<RouteName, Handler> & {
  overviewHtml: string
  /** The staff console's page and files (lib/console/assets.ts), when the server has them. */
  console?: Handler | undefined
}

type Pattern = { regex: RegExp; params: string[]; handler: Handler }

/** Returns a `fetch` function that serves every route the deployed service serves. */
export function createApp(routes: Routes): Handler {
  const byPath = new Map<string, Handler>()
  const patterns: Pattern[] = []
  for (const route of ROUTES) {
    for (const path of [route.path, ...route.aliases]) byPath.set(path, routes[route.name])
    for (const pattern of route.patterns) {
      const { source } = toRewrite(route, pattern)
      patterns.push({
        regex: new RegExp(`^${source.replace(/:(\w+)/g, '([^/]+)')}$`),
        params: [...source.matchAll(/:(\w+)/g)].map((match) => match[1] ?? ''),
        handler: routes[route.name],
      })
    }
  }
  return async (request) => {
    const pathname = toPathname(request.url)
    const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname
    const handler = byPath.get(path)
    if (handler !== undefined) return handler(request)
    for (const { regex, params, handler } of patterns) {
      const match = regex.exec(path)
      if (match === null) continue
      // As Vercel's rewrite does: the path's parameters become query parameters.
      const url = new URL(request.url)
      params.forEach((param, index) => {
        url.searchParams.set(param, decodeURIComponent(match[index + 1] ?? ''))
      })
      return handler(new Request(url, request))
    }
    if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
      return new Response(routes.overviewHtml, {
        headers: { 'content-type': 'text/html; charset=utf-8' },
      })
    }
    if (routes.console !== undefined && isConsolePath(path)) return routes.console(request)
    return toErrorResponse({ status: 404, code: 'not_found', message: `No route for ${path}` })
  }
}
