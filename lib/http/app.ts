import { toErrorResponse } from './response.js'

/** The handlers the local server routes to; on Vercel, each is its own function under `api/`. */
export type Routes = {
  identify: (request: Request) => Promise<Response>
  health: (request: Request) => Promise<Response>
  overviewHtml: string
}

// The paths `POST /identify` answers on: its own, the reference service's, and Vercel's.
const IDENTIFY_PATHS = ['/identify', '/identity', '/api/identify']

/** Returns a `fetch` function that serves every route the deployed service serves. */
export function createApp(routes: Routes): (request: Request) => Promise<Response> {
  return async (request) => {
    const { pathname } = new URL(request.url)
    const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname
    if (IDENTIFY_PATHS.includes(path)) return routes.identify(request)
    if (path === '/api/health') return routes.health(request)
    if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
      return new Response(routes.overviewHtml, {
        headers: { 'content-type': 'text/html; charset=utf-8' },
      })
    }
    return toErrorResponse({ status: 404, code: 'not_found', message: `No route for ${path}` })
  }
}
