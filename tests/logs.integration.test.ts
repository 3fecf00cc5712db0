// Personal data never reaches the logs: a full scenario through the real service process, whose
// stdout and stderr are captured, contains none of the emails or phone numbers it handled.
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type ServiceProcess, startServiceProcess } from '../harness/service-process.js'
import { createServerDatabase } from './support/database.js'

let database: { url: string; drop: () => Promise<void> }
let service: ServiceProcess
beforeAll(async () => {
  database = await createServerDatabase()
  service = await startServiceProcess({ DATABASE_URL: database.url, IDENTIFY_API_KEYS: 'k1' })
})
afterAll(async () => {
  await service.stop()
  await database.drop()
})

test('a full scenario logs one line per request and no identifier in clear', async () => {
  const identifiers = [
    'lorraine@hillvalley.edu',
    'mcfly@hillvalley.edu',
    '5550123',
    'biff@hillvalley.edu',
    '7171717',
  ]
  const send = (body: unknown, key = 'k1') =>
    fetch(`${service.url}/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    })
  const statuses = [
    await send({ email: 'lorraine@hillvalley.edu', phoneNumber: '5550123' }),
    await send({ email: 'mcfly@hillvalley.edu', phoneNumber: '555-0123' }),
    await send({ email: 'biff@hillvalley.edu', phoneNumber: 7171717 }),
    await send({ email: 'mcfly@hillvalley.edu', phoneNumber: '7171717' }),
    await send({ email: 'mcfly@hillvalley.edu' }),
    await send({ email: 'not-an-email-5550123' }),
    await send({ email: 'lorraine@hillvalley.edu' }, 'wrong-key'),
  ].map((response) => response.status)

  // An unexpected failure, whose cause is logged: the table is renamed away under the service.
  const admin = new pg.Client({ connectionString: database.url })
  await admin.connect()
  await admin.query('alter table "Contact" rename to "Hidden"')
  statuses.push((await send({ email: 'lorraine@hillvalley.edu', phoneNumber: '5550123' })).status)
  await admin.query('alter table "Hidden" rename to "Contact"')
  await admin.end()

  expect(statuses).toEqual([200, 200, 200, 200, 200, 400, 401, 500])
  const requestLines = service.logs.filter((line) => line.msg === 'identify')
  expect(requestLines.map((line) => [line.status, line.outcome])).toEqual([
    [200, 'created'],
    [200, 'linked'],
    [200, 'created'],
    [200, 'merged'],
    [200, 'unchanged'],
    [400, 'rejected'],
    [401, 'rejected'],
    [500, 'failed'],
  ])
  expect(service.logs).toContainEqual(
    expect.objectContaining({
      level: 'error',
      msg: 'identify failed',
      error: expect.objectContaining({ code: '42P01' }),
    }),
  )
  // The failed request's own line names its cause too, by kind and SQLSTATE only.
  expect(requestLines.at(-1)).toMatchObject({ cause: { kind: 'unexpected', code: '42P01' } })
  const everything = JSON.stringify(service.logs) + service.stderr.join('\n')
  for (const identifier of identifiers) expect(everything).not.toContain(identifier)
  expect(everything).not.toContain('555-0123')
})
