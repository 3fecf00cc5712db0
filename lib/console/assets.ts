/**
 * The staff console's files for the local server: `/console` is its page, `/console/<file>` its
 * script and stylesheet, read from the folder the console build writes (scripts/console-bundle.ts).
 * On Vercel the same files are static assets of the deployment (vercel.json's outputDirectory).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { toErrorResponse, toMethodNotAllowed } from '../http/answer.js'
import type { Handler } from '../http/endpoint.js'

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
}

/**
 * The console's headers, here and on Vercel (vercel.json): only its own script and styles run,
 * it talks only to this origin, and no other site may frame it or learn its address.
 */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

/** Returns true when `path` (without a trailing slash) belongs to the console. */
export const isConsolePath = (path: string) => path === '/console' || path.startsWith('/console/')

/** Returns a handler serving the console from `directory`; a file it does not hold is a 404. */
export function createConsoleHandler(directory: string): Handler {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return toErrorResponse(toMethodNotAllowed('GET, HEAD'))
    }
    const path = new URL(request.url).pathname.replace(/\/$/, '')
    const name = path === '/console' ? 'index.html' : path.slice('/console/'.length)
    const type = TYPES[name.split('.').pop() ?? '']
    // One plain file name: no folders, so no way out of `directory`.
    if (!/^[a-z0-9-]+(\.[a-z0-9]+)+$/.test(name) || type === undefined) return notFound(path)
    const body = await readFile(join(directory, name)).catch(() => null)
    if (body === null) return notFound(path)
    return new Response(request.method === 'HEAD' ? null : body, {
      headers: { 'content-type': type, 'cache-control': 'no-cache', ...CONSOLE_HEADERS },
    })
  }
}

const notFound = (path: string) =>
  toErrorResponse({ status: 404, code: 'not_found', message: `No route for ${path}` })
