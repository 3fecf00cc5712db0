/**
 * Every route the service serves: one Vercel function per entry (`api/<name>.ts`, at `path`),
 * plus the aliases vercel.json rewrites to it. The local server routes from this same table, and
 * tests/routes.test.ts checks that vercel.json says the same.
 */
export const ROUTES = [
  // Its own path, the reference service's, and Vercel's.
  { name: 'identify', path: '/api/identify', aliases: ['/identify', '/identity'] },
  { name: 'health', path: '/api/health', aliases: [] },
] as const satisfies readonly { name: string; path: string; aliases: readonly string[] }[]

/** The name of a deployed function. */
export type RouteName = (typeof ROUTES)[number]['name']
