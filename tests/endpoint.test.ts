// What every endpoint does around its own work (lib/http/endpoint.ts): the request id it gives a
// request and the one line it logs for it. Pure: Web Requests, no server and no database.
import { describe, expect, test } from 'vitest'
import { createEndpoint, type Handled } from '../lib/http/endpoint.js'
import { captureLogs } from './support/http.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function endpointAnswering(handled: () => Handled) {
  const logger = captureLogs()
  const endpoint = createEndpoint({
    name: 'probe',
    methods: ['POST'],
    logger,
    handle: async () => handled(),
  })
  return { endpoint, logger }
}

const ok = (): Handled => ({ response: new Response('{}'), outcome: 'ok' })

const send = (endpoint: (request: Request) => Promise<Response>, headers: HeadersInit) =>
  endpoint(new Request('http://store.test/probe', { method: 'POST', headers }))

describe('request ids', () => {
  test.each([
    ["the caller's id", { 'x-request-id': 'req-42' }, 'req-42'],
    [
      'a UUID',
      { 'x-request-id': '0f8fad5b-d9cb-469f-a165-70867728950e' },
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    ],
    ['dots, colons and underscores', { 'x-request-id': 'shop.eu:order_17' }, 'shop.eu:order_17'],
    ['64 characters', { 'x-request-id': 'a'.repeat(64) }, 'a'.repeat(64)],
    [
      "Vercel's id",
      { 'x-vercel-id': 'iad1::d4285-1769280933622-449e98882f00' },
      'iad1::d4285-1769280933622-449e98882f00',
    ],
    [
      "Vercel's id through several regions, before the caller's",
      { 'x-vercel-id': 'sfo1::iad1::hmvhs-1771412927491-912582182ea4', 'x-request-id': 'req-42' },
      'sfo1::iad1::hmvhs-1771412927491-912582182ea4',
    ],
  ])('keeps %s', async (_, headers, id) => {
    const { endpoint, logger } = endpointAnswering(ok)
    const response = await send(endpoint, headers)
    expect(response.headers.get('x-request-id')).toBe(id)
    expect(logger.lines).toEqual([expect.objectContaining({ msg: 'probe', requestId: id })])
  })

  test.each([
    ['an email in x-request-id', { 'x-request-id': 'lorraine@hillvalley.edu' }],
    ['an email in x-vercel-id', { 'x-vercel-id': 'lorraine@hillvalley.edu' }],
    ['a name with spaces', { 'x-request-id': 'Lorraine Baines' }],
    ['a phone number with a plus', { 'x-request-id': '+15550123' }],
    ['65 characters', { 'x-request-id': 'a'.repeat(65) }],
    [
      'two ids',
      [
        ['x-request-id', 'a'],
        ['x-request-id', 'b'],
      ],
    ],
    ['an empty id', { 'x-request-id': '' }],
  ] as const)('replaces %s with an id of its own, and never logs it', async (_, headers) => {
    const { endpoint, logger } = endpointAnswering(ok)
    const response = await send(endpoint, headers as HeadersInit)
    const id = response.headers.get('x-request-id')
    expect(id).toMatch(UUID)
    expect(logger.lines).toEqual([expect.objectContaining({ requestId: id })])
    const sent = new Headers(headers as HeadersInit)
    const logged = JSON.stringify(logger.lines)
    for (const name of ['x-request-id', 'x-vercel-id']) {
      const value = sent.get(name)
      if (value) expect(logged).not.toContain(value)
    }
  })
})

describe('the request log line', () => {
  test('carries the cause of a failure: its kind and code, nothing else', async () => {
    const { endpoint, logger } = endpointAnswering(() => ({
      response: new Response('{}', { status: 503 }),
      outcome: 'failed',
      attempts: 2,
      cause: { kind: 'busy', code: '55P03' },
    }))
    await send(endpoint, {})
    expect(logger.lines).toEqual([
      expect.objectContaining({
        status: 503,
        outcome: 'failed',
        attempts: 2,
        cause: { kind: 'busy', code: '55P03' },
      }),
    ])
  })

  test('names the cause of a thrown error, which is answered 500', async () => {
    const { endpoint, logger } = endpointAnswering(() => {
      throw Object.assign(new Error('relation "Contact" does not exist'), { code: '42P01' })
    })
    expect((await send(endpoint, {})).status).toBe(500)
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ status: 500, cause: { kind: 'unexpected', code: '42P01' } }),
    )
  })
})
