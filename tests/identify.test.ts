// The identify handler's answers to faults and conflicts, driven with Web Requests against a real
// PostgreSQL (node-postgres): each fault is produced for real, not simulated.
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { findViolations, readAllContacts } from '../harness/invariants.js'
import { openDatabase } from '../lib/db/open.js'
import { createIdentifyHandler } from '../lib/identify/handler.js'
import type { RetryPolicy } from '../lib/identify/shell.js'
import { createContactStore } from '../lib/identify/store.js'
import { readEnv } from '../lib/platform/env.js'
import { openTestDatabase, type TestDatabase, waitForAdvisoryWaiter } from './support/database.js'
import { captureLogs, createTestClient } from './support/http.js'

const OPEN = { kind: 'open' } as const
const FAST_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }
const post = (body: unknown) =>
  new Request('http://store.test/identify', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
    body: JSON.stringify(body),
  })

describe('identify handler', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await openTestDatabase('node-postgres')
  })
  afterAll(() => database.dispose())
  beforeEach(() => database.query('truncate "Contact" restart identity'))

  // A store whose writes are each preceded, between this request's read and its write, by a
  // rival request that really changes the same customer: the locked re-check then fails with 40001.
  // It cannot lock before reading (no `whileLocked`, as on Neon's HTTP driver), so every retry races.
  // `slowWriteMs` makes each attempt last at least that long.
  const handlerWithRival = (
    rivalRequest: (write: number) => unknown | null,
    retry: RetryPolicy = FAST_RETRY,
    { deadlineMs, slowWriteMs = 0 }: { deadlineMs?: number; slowWriteMs?: number } = {},
  ) => {
    const store = createContactStore(database)
    const rival = createTestClient(database)
    let writes = 0
    const logger = captureLogs()
    const handler = createIdentifyHandler({
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      store: {
        readCluster: store.readCluster,
        writePlan: async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, slowWriteMs))
          const body = rivalRequest(++writes)
          if (body !== null) await rival.identify(body)
          return store.writePlan(...args)
        },
      },
      auth: OPEN,
      retry,
      logger,
    })
    return { handler, logger, rival, writes: () => writes }
  }

  test('a conflict that outlasts every retry is a 503 with Retry-After, and writes nothing of its own', async () => {
    const { handler, logger, rival, writes } = handlerWithRival((write) => ({
      email: `rival${write}@x.io`,
      phoneNumber: '1',
    }))
    await rival.identify({ email: 'hot@x.io', phoneNumber: '1' })

    const response = await handler(post({ email: 'mine@x.io', phoneNumber: '1' }))

    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    expect(await response.json()).toEqual({
      error: { code: 'conflict', message: expect.any(String) },
    })
    expect(writes()).toBe(FAST_RETRY.maxAttempts)
    const rows = await readAllContacts(database)
    expect(rows.map((row) => row.email)).not.toContain('mine@x.io')
    expect(rows).toHaveLength(1 + FAST_RETRY.maxAttempts)
    expect(findViolations(rows)).toEqual([])
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        status: 503,
        outcome: 'failed',
        attempts: 3,
        cause: { kind: 'conflict', code: '40001' },
      }),
    )
  })

  // Attempts of over 600 ms each: after the first, a 1 s deadline leaves less than one attempt.
  test.each([
    ['1 s: no retry starts that could not end in time', 1_000, 1],
    ['5 s: retries while one fits', 5_000, 3],
  ])(
    'a conflict on every attempt of 600 ms, with a deadline of %s',
    async (_, deadlineMs, attempts) => {
      const { handler, logger, writes } = handlerWithRival(
        (write) => ({ email: `rival${write}@x.io`, phoneNumber: '1' }),
        FAST_RETRY,
        { deadlineMs, slowWriteMs: 600 },
      )
      const started = performance.now()
      const response = await handler(post({ email: 'mine@x.io', phoneNumber: '1' }))
      expect(response.status).toBe(503)
      expect(await response.json()).toMatchObject({ error: { code: 'conflict' } })
      expect(performance.now() - started).toBeLessThan(deadlineMs)
      expect(writes()).toBe(attempts)
      expect(logger.lines).toContainEqual(expect.objectContaining({ outcome: 'failed', attempts }))
    },
  )

  test('a conflict that clears on retry is answered normally', async () => {
    const { handler, logger } = handlerWithRival((write) =>
      write === 1 ? { email: 'first@x.io', phoneNumber: '7' } : null,
    )

    const response = await handler(post({ email: 'second@x.io', phoneNumber: '7' }))

    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      contact: {
        primaryContactId: 1,
        emails: ['first@x.io', 'second@x.io'],
        phoneNumbers: ['7'],
        secondaryContactIds: [2],
      },
    })
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ outcome: 'linked', attempts: 2, requestId: 'req-42' }),
    )
  })

  // The real store, whose retries lock first, and a client that plays rival requests beside it;
  // `seeds` are sent first, in order.
  const lockingStoreAndRival = async (seeds: unknown[]) => {
    const store = createContactStore(database)
    const { whileLocked } = store
    if (whileLocked === undefined) throw new Error('node-postgres has interactive transactions')
    const rival = createTestClient(database)
    for (const seed of seeds) await rival.identify(seed)
    return { store, whileLocked, rival }
  }

  test("a write that lost a race retries under the customer's locks, and a rival arriving then waits for it", async () => {
    const { store, whileLocked, rival } = await lockingStoreAndRival([
      { email: 'first@x.io', phoneNumber: '7' },
    ])
    let rivalWrites = 0
    let lateRival: ReturnType<typeof rival.identify> | undefined
    const logger = captureLogs()
    const handler = createIdentifyHandler({
      store: {
        ...store,
        // Every write that did not lock first loses its race.
        writePlan: async (...args) => {
          await rival.identify({ email: `rival${++rivalWrites}@x.io`, phoneNumber: '7' })
          return store.writePlan(...args)
        },
        // Once the retry holds the locks, a rival that arrives must wait for it to commit.
        whileLocked: (identifiers, leaderIds, work) =>
          whileLocked(identifiers, leaderIds, async (locked) => {
            lateRival = rival.identify({ email: 'late@x.io', phoneNumber: '7' })
            await waitForAdvisoryWaiter(database)
            return work(locked)
          }),
      },
      auth: OPEN,
      retry: FAST_RETRY,
      logger,
    })

    const response = await handler(post({ email: 'mine@x.io', phoneNumber: '7' }))

    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      contact: {
        primaryContactId: 1,
        emails: ['first@x.io', 'rival1@x.io', 'mine@x.io'],
        phoneNumbers: ['7'],
        secondaryContactIds: [2, 3],
      },
    })
    expect(rivalWrites).toBe(1)
    expect(logger.lines).toContainEqual(expect.objectContaining({ outcome: 'linked', attempts: 2 }))
    expect((await lateRival)?.body).toEqual({
      contact: {
        primaryContactId: 1,
        emails: ['first@x.io', 'rival1@x.io', 'mine@x.io', 'late@x.io'],
        phoneNumbers: ['7'],
        secondaryContactIds: [2, 3, 4],
      },
    })
    expect(findViolations(await readAllContacts(database))).toEqual([])
  })

  // Between this request's first read and its write, a rival merges its customer (led by row 2)
  // into an older one (led by row 1): the locked retry, holding row 2's lock, meets leader 1.
  test.each([
    ['free', false, [[2]], 2],
    ['held by another writer', true, [[2], [1]], 3],
  ])(
    'a locked retry takes the lock of a leader that joined only if it is %s, else retries locking it in order',
    async (_, isHeld, expectedLocks, expectedAttempts) => {
      const { store, whileLocked, rival } = await lockingStoreAndRival([
        { email: 'old@x.io', phoneNumber: '100' },
        { email: 'b@x.io', phoneNumber: '200' },
      ])
      const holder = new pg.Client({ connectionString: database.url ?? '' })
      await holder.connect()
      const lockedLeaders: number[][] = []
      let isFirstWrite = true
      const logger = captureLogs()
      const handler = createIdentifyHandler({
        store: {
          ...store,
          writePlan: async (...args) => {
            if (isFirstWrite) {
              await rival.identify({ email: 'old@x.io', phoneNumber: '200' })
              if (isHeld) await holder.query(`select pg_advisory_lock(hashtext('Contact.root'), 1)`)
            }
            isFirstWrite = false
            return store.writePlan(...args)
          },
          whileLocked: async (identifiers, leaderIds, work) => {
            lockedLeaders.push([...leaderIds])
            // The other writer lets go before this request's retry locks leader 1 in order.
            if (leaderIds.includes(1)) await holder.query('select pg_advisory_unlock_all()')
            return whileLocked(identifiers, leaderIds, work)
          },
        },
        auth: OPEN,
        retry: { ...FAST_RETRY, maxAttempts: 4 },
        logger,
      })

      try {
        const response = await handler(post({ email: 'b@x.io', phoneNumber: '201' }))
        expect(response.status).toBe(200)
        expect(await response.json()).toMatchObject({
          contact: { primaryContactId: 1, phoneNumbers: ['100', '200', '201'] },
        })
      } finally {
        await holder.end()
      }
      expect(lockedLeaders).toEqual(expectedLocks)
      expect(logger.lines).toContainEqual(
        expect.objectContaining({ outcome: 'linked', attempts: expectedAttempts }),
      )
      expect(findViolations(await readAllContacts(database))).toEqual([])
    },
  )

  test('a locked retry whose newly joined leader changed before it took that lock retries again', async () => {
    const { store, whileLocked, rival } = await lockingStoreAndRival([
      { email: 'o@x.io', phoneNumber: '100' },
      { email: 'n@x.io', phoneNumber: '200' },
      { email: 'b@x.io', phoneNumber: '300' },
    ])
    const lockedLeaders: number[][] = []
    let isFirstWrite = true
    const logger = captureLogs()
    const handler = createIdentifyHandler({
      store: {
        ...store,
        // Before the first write: customer 3 is merged into customer 2, its new leader.
        writePlan: async (...args) => {
          if (isFirstWrite) await rival.identify({ email: 'n@x.io', phoneNumber: '300' })
          isFirstWrite = false
          return store.writePlan(...args)
        },
        // After the first locked read, which holds row 3's lock and sees leader 2: customer 2 is
        // merged into customer 1. Leader 2's lock is then free, but the plan is stale; only the
        // version check can tell.
        whileLocked: (identifiers, leaderIds, work) => {
          lockedLeaders.push([...leaderIds])
          return whileLocked(identifiers, leaderIds, (locked) =>
            work({
              ...locked,
              readCluster: async (request) => {
                const rows = await locked.readCluster(request)
                if (lockedLeaders.length === 1) {
                  await rival.identify({ email: 'o@x.io', phoneNumber: '200' })
                }
                return rows
              },
            }),
          )
        },
      },
      auth: OPEN,
      retry: { ...FAST_RETRY, maxAttempts: 4 },
      logger,
    })

    const response = await handler(post({ email: 'b@x.io', phoneNumber: '301' }))

    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      contact: { primaryContactId: 1, phoneNumbers: ['100', '200', '300', '301'] },
    })
    expect(lockedLeaders).toEqual([[3], [2]])
    expect(logger.lines).toContainEqual(expect.objectContaining({ outcome: 'linked', attempts: 3 }))
    expect(findViolations(await readAllContacts(database))).toEqual([])
  })

  test('an unexpected database error is a generic 500, logged with its cause and without identifiers', async () => {
    await database.query('alter table "Contact" rename to "ContactRenamed"')
    try {
      const logger = captureLogs()
      const handler = createIdentifyHandler({
        store: createContactStore(database),
        auth: OPEN,
        logger,
      })
      const response = await handler(post({ email: 'secret@x.io', phoneNumber: '5550199' }))
      expect(response.status).toBe(500)
      expect(await response.json()).toEqual({
        error: { code: 'internal_error', message: 'Something went wrong on our side' },
      })
      const logged = JSON.stringify(logger.lines)
      expect(logged).toContain('42P01')
      expect(logged).not.toContain('secret@x.io')
      expect(logged).not.toContain('5550199')
    } finally {
      await database.query('alter table "ContactRenamed" rename to "Contact"')
    }
  })
})

test('an unreachable database is a 503 within the connect timeout', async () => {
  const unreachable = await openDatabase(
    readEnv({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }),
  )
  const logger = captureLogs()
  const handler = createIdentifyHandler({
    store: createContactStore(unreachable),
    auth: OPEN,
    logger,
  })
  const started = performance.now()
  const response = await handler(post({ email: 'a@x.io' }))
  expect(performance.now() - started).toBeLessThan(6_000)
  expect(response.status).toBe(503)
  expect(response.headers.get('retry-after')).toBe('5')
  expect(await response.json()).toEqual({
    error: { code: 'database_unavailable', message: expect.any(String) },
  })
  expect(logger.lines).toContainEqual(
    expect.objectContaining({ status: 503, cause: { kind: 'unavailable', code: 'ECONNREFUSED' } }),
  )
  await unreachable.close()
})
