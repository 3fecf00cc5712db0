// Issue 9: a distribution's PostgreSQL ships LLVM JIT switched on, and compiling the service's
// statements costs far more than running them. On a private cluster of Debian's PostgreSQL that
// JIT-compiles every planned statement (every threshold 0), a realistic mix of requests runs on
// each server driver; pg_stat_statements (tracking statements inside functions too) must then show
// that none was compiled, while a control statement sent without the fix is.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createFreshDatabase } from '../harness/fresh-database.js'
import { startNeonHttpProxy } from '../harness/neon-http-proxy.js'
import {
  findSystemPostgres,
  type SystemPostgres,
  startSystemPostgres,
} from '../harness/system-postgres.js'
import type { Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import type { Database } from '../lib/db/database.js'
import { openDatabase } from '../lib/db/open.js'
import { selectCluster, throughUnblocked } from '../lib/identify/cluster-read.js'
import { type ContactStore, type IdentifyOutcome, identifyContact } from '../lib/identify/shell.js'
import { createContactStore } from '../lib/identify/store.js'
import { type Driver, readEnv } from '../lib/platform/env.js'
import { SERVER_DRIVERS } from './support/database.js'

const SETTINGS = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track': 'all',
  jit: 'on',
  jit_above_cost: '0',
  jit_optimize_above_cost: '0',
  jit_inline_above_cost: '0',
  fsync: 'off',
  full_page_writes: 'off',
}

// Looked up at collection, so a machine without Debian's PostgreSQL and LLVM skips with the reason.
const install = await findSystemPostgres({ settings: SETTINGS, requireJit: true })

type StatementStats = {
  query: string
  calls: number
  jit_functions: number
  jit_generation_time: number
}

// A fresh database with the migrations applied, and a connection for setup and inspection.
async function createDatabase(url: string, name: string) {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query('create extension if not exists pg_stat_statements')
  const { url: databaseUrl } = await createFreshDatabase(url, { name })
  return {
    url: databaseUrl,
    /** Every statement pg_stat_statements saw in this database since the last reset. */
    readStatements: async () =>
      (
        await admin.query<StatementStats>(
          `select query, calls::int, jit_functions::int, jit_generation_time::float8
           from pg_stat_statements where dbid = (select oid from pg_database where datname = $1)`,
          [name],
        )
      ).rows,
    resetStatements: () => admin.query('select pg_stat_statements_reset()'),
    close: () => admin.end(),
  }
}

// Opens the service's database over `driver`; Neon's HTTP driver goes through the local proxy,
// which runs what the driver sends on this server.
async function openServiceDatabase(driver: Driver, url: string) {
  const proxy = driver === 'neon-http' ? await startNeonHttpProxy({ connectionString: url }) : null
  const database = await openDatabase(
    readEnv({
      DATABASE_URL: url,
      DATABASE_DRIVER: driver,
      ...(proxy ? { NEON_HTTP_ENDPOINT: proxy.url } : {}),
    }),
  )
  return {
    database,
    close: async () => {
      await database.close()
      await proxy?.close()
    },
  }
}

// The store, except that before its first write a rival request changes the same customer, so
// the write's version check fails and the request is retried: under the customer's locks where
// the driver has interactive transactions (node-postgres), racing again where not (Neon HTTP).
function withRivalBeforeFirstWrite(store: ContactStore, rival: Identifiers): ContactStore {
  let isFirstWrite = true
  return {
    ...store,
    writePlan: async (plan, request, linkable, requestId) => {
      if (isFirstWrite) {
        isFirstWrite = false
        await identifyContact(store, keyedAsStored(rival))
      }
      return store.writePlan(plan, request, linkable, requestId)
    },
  }
}

// Sends a realistic mix through the service's store and returns each request's outcome and
// attempts: every kind of request, email or phone alone, and retries after a lost race.
async function runMix(database: Database): Promise<string[]> {
  const store = createContactStore(database)
  const results: string[] = []
  const identify = async (request: Identifiers, from: ContactStore = store) => {
    const result = await identifyContact(from, keyedAsStored(request))
    if (!result.ok) throw new Error(`identify failed: ${result.error}`)
    results.push(`${result.outcome as IdentifyOutcome}/${result.attempts}`)
  }
  await identify({ email: 'ada@jit.test', phoneNumber: '100' }) // new customer
  await identify({ email: 'ada@jit.test', phoneNumber: '100' }) // returning
  await identify({ email: 'ada@jit.test', phoneNumber: null }) // returning, email only
  await identify({ email: 'ada.work@jit.test', phoneNumber: '100' }) // new information
  await identify({ email: 'bob@jit.test', phoneNumber: '200' }) // another new customer
  await identify({ email: 'ada@jit.test', phoneNumber: '200' }) // merge of the two
  await identify({ email: null, phoneNumber: '200' }) // returning, phone only
  // A lost race: a rival adds to the customer between this request's read and its write.
  await identify(
    { email: 'ada.home@jit.test', phoneNumber: '100' },
    withRivalBeforeFirstWrite(store, { email: 'rival@jit.test', phoneNumber: '100' }),
  )
  // A lost race in which the customer gains an older leader: the locked retry must also take
  // that leader's lock (contact_try_lock_cluster on node-postgres).
  await identify({ email: 'cy@jit.test', phoneNumber: '300' })
  await identify(
    { email: 'cy@jit.test', phoneNumber: '301' },
    withRivalBeforeFirstWrite(store, { email: 'ada@jit.test', phoneNumber: '300' }),
  )
  return results
}

// CI installs Debian's PostgreSQL when it is missing (.ci/run), so there the proof cannot be
// skipped quietly: a missing server fails with its reason.
test.runIf(!install.ok && process.env.CI === 'true')('CI has a JIT-capable PostgreSQL', () => {
  expect.fail(install.ok ? '' : install.reason)
})

describe.skipIf(!install.ok)(
  install.ok
    ? `on Debian's PostgreSQL ${install.version} with JIT at every cost`
    : `skipped: ${install.reason}`,
  () => {
    let server: SystemPostgres | undefined
    beforeAll(async () => {
      const started = await startSystemPostgres({ settings: SETTINGS, requireJit: true })
      if (!started.ok) throw new Error(started.reason)
      server = started
    })
    afterAll(() => server?.stop())

    describe.each(SERVER_DRIVERS)('through %s', (driver) => {
      let target: Awaited<ReturnType<typeof createDatabase>>
      let service: Awaited<ReturnType<typeof openServiceDatabase>>
      beforeAll(async () => {
        if (server === undefined) throw new Error('the cluster did not start')
        target = await createDatabase(server.url, `identity_jit_${driver.replace('-', '_')}`)
        service = await openServiceDatabase(driver, target.url)
      })
      afterAll(async () => {
        await service?.close()
        await target?.close()
      })

      test('no statement of a realistic mix of requests is JIT-compiled', async () => {
        await target.resetStatements()
        const outcomes = await runMix(service.database)
        expect(outcomes).toEqual([
          'created/1',
          'unchanged/1',
          'unchanged/1',
          'linked/1',
          'created/1',
          'merged/1',
          'unchanged/1',
          'linked/2',
          'created/1',
          'linked/2',
        ])
        const statements = await target.readStatements()
        // The statements that matter were tracked, those run inside the service's functions too.
        const texts = statements.map((statement) => statement.query)
        for (const pattern of [
          /with recursive/,
          /contact_lock_cluster\(/,
          /contact_assert_cluster_version\(/,
          /pg_advisory_xact_lock\(/,
          /^insert into "Contact"/,
          /^update "Contact"/,
          ...(driver === 'node-postgres' ? [/contact_try_lock_cluster\(/] : []),
        ]) {
          expect(texts, String(pattern)).toContainEqual(expect.stringMatching(pattern))
        }
        const compiled = statements
          .filter((statement) => statement.jit_functions > 0 || statement.jit_generation_time > 0)
          .map(
            ({ query, calls, jit_functions }) =>
              `${jit_functions} functions in ${calls} calls: ${query.replace(/\s+/g, ' ').slice(0, 120)}`,
          )
        expect(compiled).toEqual([])
      })

      test('control: the same server compiles the cluster read when it is sent without the fix', async () => {
        await target.resetStatements()
        // The service's cluster read, sent as it is on a connection of no settings of ours.
        const { sql: text, params } = selectCluster(
          service.database.db,
          throughUnblocked({ emailKey: 'ada@jit.test', phoneKey: null }),
        ).toSQL()
        const plain = new pg.Client({ connectionString: target.url })
        await plain.connect()
        await plain.query(text, params)
        await plain.end()
        const control = (await target.readStatements()).find((statement) =>
          statement.query.includes('with recursive'),
        )
        expect(control?.jit_functions).toBeGreaterThan(0)
      })
    })
  },
)
