// `npx tsx bench/huge-customer.ts [--reset-link-estimate] [--same-identifier]`: what one customer
// of 20,000 rows costs everyone else. Loads 500 one-row customers and one of 20,000 rows into a
// fresh database on an embedded PostgreSQL 17 (or the server whose superuser URL is
// BENCH_DATABASE_URL), analyses it, starts the service as its own process (node-postgres, its
// default pool) and measures:
// 1. one request for the huge customer, five times in a row;
// 2. small customers' requests at concurrency 4 for 10 s, alone;
// 3. the same while 12 requests for the huge customer are always in flight, each naming another of
//    its emails (`--same-identifier`: and all its primary's phone number).
// `--reset-link-estimate` drops migration 0005's fixed "linkedId" estimate before analysing: the
// plans as they were before it.
import { startEmbeddedPostgres } from '../harness/embedded-postgres.js'
import { createFreshDatabase, withClient } from '../harness/fresh-database.js'
import { startServiceProcess } from '../harness/service-process.js'
import { summarizeLatencies } from './stats.js'

const HUGE_ROWS = 20_000
const SMALL_CUSTOMERS = 500
const SMALL_CONCURRENCY = 4
const HUGE_IN_FLIGHT = 12
const SECONDS = 10
const isEstimateReset = process.argv.includes('--reset-link-estimate')

const server = process.env.BENCH_DATABASE_URL
  ? { url: process.env.BENCH_DATABASE_URL, stop: async () => {} }
  : await startEmbeddedPostgres()
const database = await createFreshDatabase(server.url, { prefix: 'identity_huge' })
await withClient(database.url, async (client) => {
  await client.query(`
    insert into "Contact" ("email", "phoneNumber", "linkPrecedence", "createdAt")
    values ('h1@huge.test', '+1001', 'primary', '2020-01-01');
    insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
    select "email", "phoneNumber", "linkedId", "linkPrecedence"::"LinkPrecedence", '2020-01-02'
    from (
      select 'h' || n || '@huge.test', '+100' || n, 1, 'secondary' from generate_series(2, ${HUGE_ROWS}) n
      union all
      select 's' || n || '@huge.test', '+200' || n, null, 'primary' from generate_series(1, ${SMALL_CUSTOMERS}) n
    ) as customer ("email", "phoneNumber", "linkedId", "linkPrecedence")
    -- Interleaved, as rows written over time are: the link index is not in table order.
    order by random()`)
  if (isEstimateReset) {
    await client.query(`alter table "Contact" alter column "linkedId" reset (n_distinct)`)
  }
  await client.query('analyze "Contact"')
})
const service = await startServiceProcess({
  DATABASE_URL: database.url,
  DATABASE_DRIVER: 'node-postgres',
})

// Sends one identify request; returns its status and how long it took, in ms.
async function identify(body: unknown): Promise<{ status: number; ms: number }> {
  const started = performance.now()
  const response = await fetch(`${service.url}/identify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  await response.arrayBuffer()
  return { status: response.status, ms: performance.now() - started }
}

// `--same-identifier`: every request for the huge customer names its primary's phone number too,
// as requests carrying a placeholder phone number all do.
const isSameIdentifier = process.argv.includes('--same-identifier')
const hugeRequest = (n: number) => ({
  email: `h${(n % HUGE_ROWS) + 1}@huge.test`,
  ...(isSameIdentifier ? { phoneNumber: '+1001' } : {}),
})
const smallRequest = (n: number) => ({ email: `s${(n % SMALL_CUSTOMERS) + 1}@huge.test` })
const round = (ms: number) => Math.round(ms * 10) / 10

// Runs `workers` closed loops of `request` until `until()`; returns every latency and status.
async function runLoops(workers: number, request: (n: number) => unknown, until: () => boolean) {
  const latencies: number[] = []
  const statuses: Record<number, number> = {}
  let sent = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!until()) {
        const { status, ms } = await identify(request(sent++ * 7919))
        latencies.push(ms)
        statuses[status] = (statuses[status] ?? 0) + 1
      }
    }),
  )
  return { latencies, statuses }
}

// Small customers for SECONDS, with `hugeInFlight` huge requests always running meanwhile.
async function measureSmall(hugeInFlight: number) {
  const deadline = performance.now() + SECONDS * 1000
  let isDone = false
  const huge = runLoops(hugeInFlight, hugeRequest, () => isDone)
  const small = await runLoops(SMALL_CONCURRENCY, smallRequest, () => performance.now() > deadline)
  isDone = true
  const hugeResult = await huge
  const summary = summarizeLatencies(Float64Array.from(small.latencies))
  return {
    hugeInFlight,
    small: {
      requests: small.latencies.length,
      statuses: small.statuses,
      p50: round(summary.p50),
      p99: round(summary.p99),
      max: round(summary.max),
    },
    huge: { requests: hugeResult.latencies.length, statuses: hugeResult.statuses },
  }
}

try {
  await identify(smallRequest(0))
  const single: { status: number; ms: number }[] = []
  for (let n = 0; n < 5; n++) single.push(await identify(hugeRequest(n)))
  const report = {
    hugeRequests: isSameIdentifier ? 'each names the same phone' : 'each names another email',
    linkEstimate: isEstimateReset ? 'reset (as before migration 0005)' : 'fixed (migration 0005)',
    hugeAlone: single.map(({ status, ms }) => ({ status, ms: Math.round(ms) })),
    alone: await measureSmall(0),
    loaded: await measureSmall(HUGE_IN_FLIGHT),
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
} finally {
  await service.stop()
  await database.drop()
  await server.stop()
}
