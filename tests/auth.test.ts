// Who may call identify (lib/http/auth.ts): keys when configured, open outside production otherwise,
// and refused in production without keys. Handler checks run against a real database.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkAuthorization, toAuthMode } from '../lib/http/auth.js'
import { createIdentifyHandler } from '../lib/identify/handler.js'
import { createContactStore } from '../lib/identify/store.js'
import { openTestDatabase, type TestDatabase } from './support/database.js'
import { captureLogs } from './support/http.js'

const request = (authorization?: string) =>
  new Request('http://store.test/identify', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: JSON.stringify({ email: 'a@x.io' }),
  })

describe('the mode follows IDENTIFY_API_KEYS and VERCEL_ENV', () => {
  test.each([
    ['no keys locally: open', undefined, undefined, 'open'],
    ['no keys on a preview: open', '', 'preview', 'open'],
    ['no keys in production: refusing', ' , ', 'production', 'refusing'],
    ['keys anywhere: keys', 'k1', 'production', 'keys'],
  ])('%s', (_, keys, vercelEnv, kind) => {
    expect(toAuthMode(keys, vercelEnv).kind).toBe(kind)
  })
})

describe('with keys configured', () => {
  const mode = toAuthMode('old-key, new-key', 'production')
  test.each([
    ['the current key', 'Bearer new-key', true],
    ['the key being rotated out', 'bearer old-key', true],
    ['no header', undefined, false],
    ['a wrong key', 'Bearer newer-key', false],
    ['a prefix of a key', 'Bearer new', false],
    ['another scheme', 'Basic bmV3LWtleQ==', false],
    ['two keys at once', 'Bearer old-key new-key', false],
  ])('%s is %s', (_, header, isAllowed) => {
    const error = checkAuthorization(mode, request(header))
    if (isAllowed) expect(error).toBeNull()
    else
      expect(error).toMatchObject({
        status: 401,
        code: 'unauthorized',
        headers: { 'www-authenticate': 'Bearer' },
      })
  })
})

describe('the handler', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await openTestDatabase('node-postgres')
  })
  afterAll(() => database.dispose())

  test('answers 401 in the standard shape, before reading the body, and writes nothing', async () => {
    const handler = createIdentifyHandler({
      store: createContactStore(database),
      auth: toAuthMode('s3cret', undefined),
      logger: captureLogs(),
    })
    const response = await handler(request('Bearer wrong'))
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({
      error: {
        code: 'unauthorized',
        message: 'Send a valid API key as Authorization: Bearer <key>',
      },
    })
    expect((await handler(request('Bearer s3cret'))).status).toBe(200)
    expect(await database.query('select count(*)::int as n from "Contact"')).toEqual([{ n: 1 }])
  })

  test('in production without keys, refuses every call and says why in the answer and the logs', async () => {
    const logger = captureLogs()
    const handler = createIdentifyHandler({
      store: createContactStore(database),
      auth: toAuthMode(undefined, 'production'),
      logger,
    })
    const response = await handler(request('Bearer anything'))
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({
      error: { code: 'not_configured', message: expect.stringContaining('IDENTIFY_API_KEYS') },
    })
    expect(logger.lines[0]).toMatchObject({
      msg: expect.stringContaining('IDENTIFY_API_KEYS is not set in production'),
    })
  })

  test('says at start-up when it is open to anyone', () => {
    const logger = captureLogs()
    createIdentifyHandler({
      store: createContactStore(database),
      auth: toAuthMode('', 'preview'),
      logger,
    })
    expect(logger.lines).toEqual([{ msg: 'identify access', mode: 'open to anyone' }])
  })
})
