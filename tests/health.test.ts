// GET /api/health reports whether the database answers, and nothing about where it is.
import { expect, test } from 'vitest'
import { openDatabase } from '../lib/db/open.js'
import { createHealthHandler } from '../lib/health/handler.js'
import { createApp } from '../lib/http/app.js'
import { readEnv } from '../lib/platform/env.js'
import { openTestDatabase } from './support/database.js'
import { captureLogs, stubRoutes } from './support/http.js'

test('is 200 with the driver when the database answers', async () => {
  const database = await openTestDatabase('node-postgres')
  const health = createHealthHandler({ database: async () => database, logger: captureLogs() })
  const response = await health(new Request('http://store.test/api/health'))
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual({
    status: 'ok',
    database: { driver: 'node-postgres', reachable: true },
  })
  await database.dispose()
})

test('is 503 when the database cannot be reached, and logs why', async () => {
  const database = await openDatabase(
    readEnv({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }),
  )
  const logger = captureLogs()
  const health = createHealthHandler({ database: async () => database, logger })
  const response = await health(new Request('http://store.test/api/health'))
  expect(response.status).toBe(503)
  expect(await response.json()).toEqual({ status: 'unavailable', database: { reachable: false } })
  expect(logger.lines).toContainEqual(expect.objectContaining({ msg: 'health check failed' }))
  await database.close()
})

test('the local app serves the overview page at / and routes health', async () => {
  const app = createApp({
    ...stubRoutes(),
    overviewHtml: '<h1>Identity reconciliation API</h1>',
  })
  const page = await app(new Request('http://store.test/'))
  expect(page.headers.get('content-type')).toMatch(/^text\/html/)
  expect(await page.text()).toContain('Identity reconciliation API')
  expect(await (await app(new Request('http://store.test/api/health/'))).text()).toBe('health')
  expect(
    await (await app(new Request('http://store.test/identity', { method: 'POST' }))).text(),
  ).toBe('identify')
})
