// The local server's /console (lib/console/assets.ts): the built files, with the headers Vercel
// sends for them too (vercel.json), and nothing outside the console's folder.

import { readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, expect, test } from 'vitest'
import { CONSOLE_HEADERS, createConsoleHandler } from '../lib/console/assets.js'
import { createApp } from '../lib/http/app.js'
import type { Handler } from '../lib/http/endpoint.js'
import { stubRoutes } from './support/http.js'

let app: Handler
beforeAll(async () => {
  const directory = await mkdtemp(join(tmpdir(), 'console-assets-'))
  await writeFile(join(directory, 'index.html'), '<h1>console</h1>')
  await writeFile(join(directory, 'console.js'), 'export {}')
  app = createApp({ ...stubRoutes(), overviewHtml: '', console: createConsoleHandler(directory) })
})

const get = (path: string, init?: RequestInit) => app(new Request(`http://store.test${path}`, init))

test.each(['/console', '/console/'])('%s is the console page, with its headers', async (path) => {
  const answer = await get(path)
  expect(answer.status).toBe(200)
  expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8')
  expect(answer.headers.get('content-security-policy')).toContain("script-src 'self'")
  expect(await answer.text()).toBe('<h1>console</h1>')
})

test('its script is served as JavaScript', async () => {
  const answer = await get('/console/console.js')
  expect(answer.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
})

test.each([
  '/console/missing.js',
  '/console/%2e%2e%2fpackage.json',
  '/console/a/b.js',
  '/consoles',
])('%s is a 404 in the standard shape', async (path) => {
  const answer = await get(path)
  expect(answer.status).toBe(404)
  expect(await answer.json()).toMatchObject({ error: { code: 'not_found' } })
})

test('only GET and HEAD are answered', async () => {
  expect((await get('/console', { method: 'POST' })).status).toBe(405)
  const head = await get('/console', { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(await head.text()).toBe('')
})

test('vercel.json sends the console the same headers as the local server', () => {
  const vercel = JSON.parse(readFileSync(new URL('../vercel.json', import.meta.url), 'utf8')) as {
    headers: { source: string; headers: { key: string; value: string }[] }[]
  }
  const rule = vercel.headers.find((entry) => entry.source === '/console(.*)')
  expect(
    Object.fromEntries((rule?.headers ?? []).map(({ key, value }) => [key.toLowerCase(), value])),
  ).toEqual(CONSOLE_HEADERS)
})
