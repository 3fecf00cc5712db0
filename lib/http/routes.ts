/**
 * Every route the service serves: one Vercel function per entry (`api/<name>.ts`, at `path`),
 * plus the aliases vercel.json rewrites to it, and the paths with parameters it rewrites to it
 * as query parameters (`/api/customers/:contactId` → `/api/customers?contactId=…`). The local
 * server routes from this same table, and tests/routes.test.ts checks that vercel.json agrees.
 */
export const ROUTES = [
  // Its own path, the reference service's, and Vercel's.
  { name: 'identify', path: '/api/identify', aliases: ['/identify', '/identity'], patterns: [] },
  { name: 'health', path: '/api/health', aliases: [], patterns: [] },
  {
    name: 'customers',
    path: '/api/customers',
    aliases: [],
    patterns: ['/api/customers/:contactId'],
  },
  { name: 'explain', path: '/api/explain', aliases: [], patterns: [] },
  { name: 'blocked-identifiers', path: '/api/blocked-identifiers', aliases: [], patterns: [] },
  { name: 'identifiers', path: '/api/identifiers', aliases: [], patterns: [] },
  { name: 'events', path: '/api/events', aliases: [], patterns: [] },
  { name: 'webhooks', path: '/api/webhooks', aliases: [], patterns: [] },
  { name: 'openapi', path: '/api/openapi', aliases: ['/api/openapi.json'], patterns: [] },
] as const satisfies readonly Route[]

/** A route: its function's path, its aliases, and its paths with `:parameters`. */
export type Route = {
  name: string
  path: string
  aliases: readonly string[]
  patterns: readonly string[]
}

/** The name of a deployed function. */
export type RouteName = (typeof ROUTES)[number]['name']

/** The rewrite a path pattern stands for, as vercel.json writes it. */
export function toRewrite(route: Route, pattern: string): { source: string; destination: string } {
  const params = [...pattern.matchAll(/:(\w+)/g)].map((match) => match[1])
  const query = params.map((param) => `${param}=:${param}`).join('&')
  return { source: pattern, destination: `${route.path}?${query}` }
}

/** Every rewrite vercel.json must hold: aliases first, then patterns, in table order. */
export function toRewrites(routes: readonly Route[]): { source: string; destination: string }[] {
  return routes.flatMap((route) => [
    ...route.aliases.map((alias) => ({ source: alias, destination: route.path })),
    ...route.patterns.map((pattern) => toRewrite(route, pattern)),
  ])
}
