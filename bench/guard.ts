// The guard's figures (README, "The guard"), run by `npm run bench` and on their own by
// `npx tsx bench/guard.ts`:
// 1. Placeholder senders: 5,000 checkouts, each with its own email and one shared phone, through
//    the service process (node-postgres): the built-in placeholder `0000000000`, and a shared
//    phone no rule knows, which the quarantine catches. How many customers they end as, and the
//    p99 latency of the last 100 senders against the first 100.
// 2. Split: blocking the one phone that holds a customer of 10,000 rows together.
import { createFreshDatabase, withClient } from '../harness/fresh-database.js'
import { startServiceProcess } from '../harness/service-process.js'
import { openDatabase } from '../lib/db/open.js'
import { blockValue } from '../lib/guard/shell.js'
import { readEnv } from '../lib/platform/env.js'
import { summarizeLatencies } from './stats.js'

/** One placeholder run: the customers it made and its latencies, first and last 100 senders. */
export type PlaceholderRun = {
  phone: string
  senders: number
  customers: number
  largestAnswerEmails: number
  p99FirstMs: number
  p99LastMs: number
  ratio: number
}

/** What the guard's bench measured. */
export type GuardBench = {
  placeholder: PlaceholderRun[]
  split: { rows: number; ms: number; parts: number }
}

const SENDERS = 5_000
const CONCURRENCY = 4
const WINDOW = 100
const SPLIT_ROWS = 10_000
const WARMUP = 500

/** Measures both, each on a fresh database of the server at `adminUrl`. */
export async function measureGuard(
  adminUrl: string,
  options = { senders: SENDERS },
): Promise<GuardBench> {
  const placeholder: PlaceholderRun[] = []
  for (const phone of ['0000000000', '+15550100']) {
    placeholder.push(await measurePlaceholder(adminUrl, phone, options.senders))
  }
  return { placeholder, split: await measureSplit(adminUrl) }
}

async function measurePlaceholder(
  adminUrl: string,
  phone: string,
  senders: number,
): Promise<PlaceholderRun> {
  const fresh = await createFreshDatabase(adminUrl, { prefix: 'identity_bench_guard' })
  const service = await startServiceProcess({
    DATABASE_URL: fresh.url,
    DATABASE_DRIVER: 'node-postgres',
  })
  try {
    // A fresh process is slow until V8 has compiled its hot paths: warm it on other customers.
    for (let n = 0; n < WARMUP; n++) {
      await fetch(`${service.url}/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `warm${n}@bench.test`, phoneNumber: `+1202555${1000 + n}` }),
      }).then((response) => response.arrayBuffer())
    }
    const latencies = new Float64Array(senders)
    let largestAnswerEmails = 0
    let next = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let n = next++; n < senders; n = next++) {
          const started = performance.now()
          const response = await fetch(`${service.url}/identify`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: `shopper${n}@bench.test`, phoneNumber: phone }),
          })
          const body = (await response.json()) as { contact?: { emails: string[] } }
          latencies[n] = performance.now() - started
          if (response.status !== 200) throw new Error(`sender ${n}: ${response.status}`)
          largestAnswerEmails = Math.max(largestAnswerEmails, body.contact?.emails.length ?? 0)
        }
      }),
    )
    const customers = await withClient(fresh.url, async (client) => {
      const { rows } = await client.query<{ n: number }>(
        `select count(*)::int as n from "Contact"
         where "linkedId" is null and "deletedAt" is null and "email" like 'shopper%'`,
      )
      return rows[0]?.n ?? 0
    })
    const p99 = (from: number) => summarizeLatencies(latencies.slice(from, from + WINDOW)).p99
    const p99FirstMs = p99(0)
    const p99LastMs = p99(senders - WINDOW)
    return {
      phone,
      senders,
      customers,
      largestAnswerEmails,
      p99FirstMs: round(p99FirstMs),
      p99LastMs: round(p99LastMs),
      ratio: round(p99LastMs / p99FirstMs),
    }
  } finally {
    await service.stop()
    await fresh.drop()
  }
}

async function measureSplit(adminUrl: string): Promise<GuardBench['split']> {
  const fresh = await createFreshDatabase(adminUrl, { prefix: 'identity_bench_split' })
  const database = await openDatabase(
    readEnv({ DATABASE_URL: fresh.url, DATABASE_DRIVER: 'node-postgres' }),
  )
  try {
    await withClient(fresh.url, (client) =>
      client.query(`
        insert into "Contact" ("email", "phoneNumber", "emailKey", "phoneKey", "keyVersion", "linkPrecedence", "createdAt")
        values ('s1@split.test', '+15550199', 's1@split.test', '+15550199', '1', 'primary', '2020-01-01');
        insert into "Contact" ("email", "phoneNumber", "emailKey", "phoneKey", "keyVersion", "linkedId", "linkPrecedence", "createdAt")
        select 's' || n || '@split.test', '+15550199', 's' || n || '@split.test', '+15550199', '1', 1, 'secondary',
          '2020-01-01'::timestamptz + n * interval '1 second'
        from generate_series(2, ${SPLIT_ROWS}) n;
        analyze "Contact"`),
    )
    const started = performance.now()
    const result = await blockValue(
      { database, erasureKey: 'bench-erasure-key-0000' },
      { kind: 'phoneNumber', key: '+15550199', value: '+15550199' },
      'store',
    )
    const ms = performance.now() - started
    if (!result.ok) throw new Error(`the split failed: ${result.error}`)
    return { rows: SPLIT_ROWS, ms: Math.round(ms), parts: result.splits[0]?.into.length ?? 0 }
  } finally {
    await database.close()
    await fresh.drop()
  }
}

const round = (value: number) => Math.round(value * 100) / 100

/** The guard's figures as Markdown, for the bench's report. */
export function toGuardMarkdown(bench: GuardBench): string {
  const lines = [
    '### The guard',
    '',
    '| shared phone | senders | customers after | most emails in one answer | p99 first 100 ms | p99 last 100 ms | ratio |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...bench.placeholder.map(
      (run) =>
        `| ${run.phone === '0000000000' ? '`0000000000` (built-in)' : `\`${run.phone}\` (quarantined)`} | ${run.senders} | ${run.customers} | ${run.largestAnswerEmails} | ${run.p99FirstMs} | ${run.p99LastMs} | ${run.ratio} |`,
    ),
    '',
    `Blocking the phone of one customer of ${bench.split.rows.toLocaleString('en')} rows split it into ${bench.split.parts.toLocaleString('en')} customers in ${bench.split.ms} ms.`,
  ]
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startEmbeddedPostgres } = await import('../harness/embedded-postgres.js')
  const server = process.env.BENCH_DATABASE_URL
    ? { url: process.env.BENCH_DATABASE_URL, stop: async () => {} }
    : await startEmbeddedPostgres()
  try {
    const bench = await measureGuard(server.url)
    process.stdout.write(`${JSON.stringify(bench)}\n`)
    process.stdout.write(`${toGuardMarkdown(bench)}\n`)
  } finally {
    await server.stop()
  }
}
