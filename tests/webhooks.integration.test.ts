// Webhook delivery (lib/webhooks/) through every driver, to a local receiver that fails, times out
// and recovers: every event arrives, signed (checked with the Standard Webhooks library), in feed
// order, nothing lost across a deliverer's restart, and the state is in the database.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { toRetryDelayMs } from '../lib/core/backoff.js'
import { deliverDue, readDeliveryState } from '../lib/webhooks/deliver.js'
import { ALL_DRIVERS, openTestDatabase, type TestDatabase } from './support/database.js'
import { createTestClient } from './support/http.js'

type Mode = 'fail' | 'hang' | 'ok'

// A receiver on 127.0.0.1 that answers as its `mode` says and keeps what it accepted.
async function startReceiver(secret: string) {
  let mode: Mode = 'ok'
  const accepted: { id: string; type: string; customerId: number }[] = []
  const hanging: ServerResponse[] = []
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (mode === 'hang') {
        hanging.push(response)
        return
      }
      if (mode === 'fail') {
        response.writeHead(500).end()
        return
      }
      const body = Buffer.concat(chunks).toString('utf8')
      // Throws unless the signature, id and timestamp are the sender's.
      const payload = new Webhook(secret).verify(
        body,
        request.headers as Record<string, string>,
      ) as {
        type: string
        data: { id: string; customerId: number }
      }
      accepted.push({
        id: payload.data.id,
        type: payload.type,
        customerId: payload.data.customerId,
      })
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    accepted,
    setMode: (next: Mode) => {
      mode = next
    },
    close: async () => {
      for (const response of hanging) response.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe.each(ALL_DRIVERS)('on %s', (driver) => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const backoff = { baseMs: 1_000, capMs: 4_000 }
  let database: TestDatabase
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  let clock = Date.now()
  const now = () => new Date(clock)

  beforeAll(async () => {
    database = await openTestDatabase(driver)
    receiver = await startReceiver(secret)
    const client = createTestClient(database)
    for (const body of [
      { email: 'george@hillvalley.edu', phoneNumber: '919191' },
      { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
      { email: 'george@hillvalley.edu', phoneNumber: '717171' },
    ]) {
      expect((await client.identify(body)).status).toBe(200)
    }
  })
  afterAll(async () => {
    await receiver.close()
    await database.dispose()
  })

  const config = () => ({ url: receiver.url, secret, timeoutMs: 300 })
  const deliver = (owner: string) => deliverDue(database, config(), { owner, now, backoff })

  test('a receiver that fails, then times out, then recovers gets every event once, in order', async () => {
    receiver.setMode('fail')
    expect(await deliver('first')).toEqual({ delivered: 0, failed: true, skipped: false })
    expect(await readDeliveryState(database)).toMatchObject({ failures: 1, lastError: 'HTTP 500' })
    // Not due yet: the backoff holds every deliverer off.
    expect(await deliver('first')).toMatchObject({ skipped: true })

    clock += toRetryDelayMs(1, backoff)
    receiver.setMode('hang')
    expect(await deliver('first')).toMatchObject({ delivered: 0, failed: true })
    expect(await readDeliveryState(database)).toMatchObject({ failures: 2, lastError: 'timed out' })

    // A restart: another deliverer, the same database.
    clock += toRetryDelayMs(2, backoff)
    receiver.setMode('ok')
    expect(await deliver('after-restart')).toEqual({ delivered: 3, failed: false, skipped: false })
    expect(receiver.accepted).toEqual([
      { id: 'evt_1', type: 'customer_created', customerId: 1 },
      { id: 'evt_2', type: 'customer_created', customerId: 2 },
      { id: 'evt_3', type: 'customers_merged', customerId: 1 },
    ])
    expect(await readDeliveryState(database)).toMatchObject({ failures: 0, nextAttemptAt: null })
    // Caught up: nothing is sent twice.
    expect(await deliver('after-restart')).toEqual({ delivered: 0, failed: false, skipped: false })
    expect(receiver.accepted).toHaveLength(3)
  })

  test('a deliverer that finds the lease held by another does nothing', async () => {
    await database.query(`update "WebhookDelivery" set "leaseOwner" = 'other', "leaseUntil" = $1`, [
      new Date(clock + 60_000),
    ])
    expect(await deliver('late')).toMatchObject({ skipped: true })
    await database.query(`update "WebhookDelivery" set "leaseOwner" = null, "leaseUntil" = null`)
  })
})

test.each([
  [1, 5_000],
  [2, 10_000],
  [5, 80_000],
  [12, 3_600_000],
  [1_000, 3_600_000],
])('after %i failures in a row, a delivery waits %i ms', (failures, ms) => {
  expect(toRetryDelayMs(failures, { baseMs: 5_000, capMs: 3_600_000 })).toBe(ms)
})

test('identify starts a delivery after a request that changed the graph, and only then', async () => {
  const database = await openTestDatabase('pglite')
  let changes = 0
  const client = createTestClient(database, { afterChange: () => changes++ })
  await client.identify({ email: 'a@x.io' })
  await client.identify({ email: 'a@x.io' })
  await client.identify({ email: 'a@x.io', phoneNumber: '1' })
  expect(changes).toBe(2)
  await database.dispose()
})
