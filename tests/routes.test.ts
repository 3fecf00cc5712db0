// The route table (lib/http/routes.ts) is the one list of routes: the local server is built from
// it, and vercel.json and api/ must say the same, or a path would work on one and not the other.
import { readdirSync, readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { createApp } from '../lib/http/app.js'
import { ROUTES, toRewrites } from '../lib/http/routes.js'
import { stubRoutes } from './support/http.js'

const root = new URL('..', import.meta.url)
const vercel = JSON.parse(readFileSync(new URL('vercel.json', root), 'utf8')) as {
  rewrites: { source: string; destination: string }[]
}

test('every function in api/ is a route, and every route a function in api/', () => {
  const functions = readdirSync(new URL('api/', root))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `/api/${file.replace(/\.ts$/, '')}`)
  expect(functions.sort()).toEqual(ROUTES.map((route) => route.path).sort())
})

test("vercel.json rewrites exactly the table's aliases and patterns to their functions", () => {
  expect(vercel.rewrites).toEqual(toRewrites(ROUTES))
})

test.each(
  ROUTES.flatMap((route) => [route.path, ...route.aliases].map((path) => [path, route.name])),
)('the local server routes %s to the %s handler', async (path, name) => {
  const app = createApp({ ...stubRoutes(), overviewHtml: '' })
  expect(await (await app(new Request(`http://store.test${path}`))).text()).toBe(name)
})

test('a path with parameters reaches its function with them as query parameters', async () => {
  const app = createApp({
    ...stubRoutes(),
    customers: async (request) => new Response(new URL(request.url).search),
    overviewHtml: '',
  })
  const answer = await app(new Request('http://store.test/api/customers/23?x=1'))
  expect(await answer.text()).toBe('?x=1&contactId=23')
})
