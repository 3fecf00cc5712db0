// The environment is checked once, with one error naming every bad variable; the driver follows
// from it (lib/platform/env.ts, lib/db/open.ts). Pure: nothing is opened.
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { toDirectUrl } from '../lib/db/migrate.js'
import { chooseDriver } from '../lib/db/open.js'
import { readEnv } from '../lib/platform/env.js'

test.each([
  ['no DATABASE_URL: the embedded database', {}, 'pglite'],
  [
    'a Neon URL: the HTTP driver',
    {
      DATABASE_URL:
        'postgresql://u:p@ep-cool-id-123456.eu-central-1.aws.neon.tech/neondb?sslmode=require',
    },
    'neon-http',
  ],
  [
    'any other Postgres: node-postgres',
    { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' },
    'node-postgres',
  ],
  [
    'DATABASE_DRIVER forces one',
    { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', DATABASE_DRIVER: 'neon-http' },
    'neon-http',
  ],
  ['a blank DATABASE_URL counts as unset', { DATABASE_URL: '  ' }, 'pglite'],
])('%s', (_, source, driver) => {
  expect(chooseDriver(readEnv(source))).toBe(driver)
})

test('defaults every optional variable', () => {
  expect(readEnv({})).toEqual({
    DATABASE_POOL_SIZE: 10,
    DATABASE_STATEMENT_TIMEOUT_MS: 5000,
    HOST: '127.0.0.1',
    MAX_EMAILS_PER_PHONE: 20,
    MAX_PHONES_PER_EMAIL: 20,
    PGLITE_DATA_DIR: '.data/pglite',
    PORT: 4000,
    REQUEST_DEADLINE_MS: 8000,
    SERVER_MAX_CONNECTIONS: 256,
    SERVER_REQUEST_TIMEOUT_MS: 10000,
    WEBHOOK_TIMEOUT_MS: 5000,
  })
})

test('a webhook needs both its URL and its secret, the secret in Standard Webhooks form', () => {
  expect(() => readEnv({ WEBHOOK_URL: 'https://store.test/hooks' })).toThrow(
    /WEBHOOK_URL, WEBHOOK_SECRET: set both/,
  )
  expect(() =>
    readEnv({ WEBHOOK_URL: 'https://store.test/hooks', WEBHOOK_SECRET: 'hunter2' }),
  ).toThrow(/WEBHOOK_SECRET: must be whsec_ and base64/)
  expect(
    readEnv({ WEBHOOK_URL: 'https://store.test/hooks', WEBHOOK_SECRET: 'whsec_c2VjcmV0' }),
  ).toMatchObject({ WEBHOOK_SECRET: 'whsec_c2VjcmV0' })
})

test('names every bad variable in one error', () => {
  expect(() =>
    readEnv({
      DATABASE_URL: 'mysql://x',
      DATABASE_DRIVER: 'sqlite',
      PORT: '0',
      DATABASE_POOL_SIZE: 'ten',
    }),
  ).toThrow(
    [
      'Invalid environment:',
      '  DATABASE_URL: must start with postgres:// or postgresql://',
      '  DATABASE_DRIVER: must be one of neon-http, node-postgres, pglite',
      '  DATABASE_POOL_SIZE: must be a whole number',
      '  PORT: must be at least 1',
    ].join('\n'),
  )
})

test('a server driver without a URL is refused', () => {
  expect(() => readEnv({ DATABASE_DRIVER: 'node-postgres' })).toThrow(
    'DATABASE_URL: required when DATABASE_DRIVER is node-postgres',
  )
})

test('a deployment without DATABASE_URL is refused rather than falling back to an embedded database', () => {
  expect(() => readEnv({ VERCEL: '1' })).toThrow('DATABASE_URL: required on Vercel')
})

test.each([
  [
    'a pooled Neon URL loses its pooler',
    'postgresql://u:p@ep-cool-id-123-pooler.eu-central-1.aws.neon.tech/db?sslmode=require',
    'postgresql://u:p@ep-cool-id-123.eu-central-1.aws.neon.tech/db?sslmode=require',
  ],
  [
    'a direct Neon URL is kept',
    'postgresql://u:p@ep-cool-id-123.eu-central-1.aws.neon.tech/db?sslmode=require',
    'postgresql://u:p@ep-cool-id-123.eu-central-1.aws.neon.tech/db?sslmode=require',
  ],
  [
    'another host is kept',
    'postgres://u@db-pooler.example.com:6432/db',
    'postgres://u@db-pooler.example.com:6432/db',
  ],
])('migrations connect directly: %s', (_, url, direct) => {
  expect(toDirectUrl(url)).toBe(direct)
})

test("the default request deadline leaves 2 s of Vercel's maxDuration for a cold start and the answer", () => {
  const vercel = JSON.parse(readFileSync(new URL('../vercel.json', import.meta.url), 'utf8')) as {
    functions: Record<string, { maxDuration: number }>
  }
  for (const { maxDuration } of Object.values(vercel.functions)) {
    expect(readEnv({}).REQUEST_DEADLINE_MS).toBeLessThanOrEqual(maxDuration * 1000 - 2000)
  }
})
