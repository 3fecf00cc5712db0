// The API description (lib/http/openapi.ts): a valid OpenAPI 3.1 document, checked by a real
// validator, covering every route, built from the schemas that validate requests and answers.
import { Validator } from '@seriousme/openapi-schema-validator'
import * as v from 'valibot'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ROUTES } from '../lib/http/routes.js'
import { IdentifyResponseSchema } from '../lib/identify/operations.js'
import { CustomerViewSchema } from '../lib/lookup/operations.js'
import { openTestDatabase, type TestDatabase } from './support/database.js'
import { createTestClient } from './support/http.js'

let database: TestDatabase
let client: ReturnType<typeof createTestClient>
let document: { paths: Record<string, Record<string, unknown>> }

beforeAll(async () => {
  database = await openTestDatabase('pglite')
  client = createTestClient(database)
  const { status, body } = await client.send({ method: 'GET', path: '/api/openapi.json' })
  expect(status).toBe(200)
  document = body as typeof document
})
afterAll(() => database.dispose())

test('GET /api/openapi.json is a valid OpenAPI 3.1 document', async () => {
  const result = await new Validator().validate(document as never)
  expect(result.errors ?? []).toEqual([])
  expect(result.valid).toBe(true)
})

test('every route the service serves is described', () => {
  const described = Object.keys(document.paths)
  for (const route of ROUTES) {
    const paths = [
      route.path,
      ...route.aliases,
      ...route.patterns.map((p) => p.replace(/:(\w+)/g, '{$1}')),
    ]
    expect(
      paths.some((path) => described.includes(path)),
      route.name,
    ).toBe(true)
  }
})

test("the described request body is identify's own schema, as callers write it", () => {
  const post = document.paths['/identify']?.post as {
    requestBody: { content: { 'application/json': { schema: { properties: object } } } }
  }
  expect(Object.keys(post.requestBody.content['application/json'].schema.properties)).toEqual([
    'email',
    'phoneNumber',
  ])
})

test('real answers match the schemas the description is built from', async () => {
  const identified = await client.identify({
    email: 'lorraine@hillvalley.edu',
    phoneNumber: 123456,
  })
  expect(v.safeParse(IdentifyResponseSchema, identified.body).success).toBe(true)
  const looked = await client.send({ method: 'GET', path: '/api/customers?phoneNumber=123456' })
  expect(v.safeParse(CustomerViewSchema, looked.body).issues).toBeUndefined()
})
