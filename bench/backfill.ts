// The backfill's figure (issue 13): a file of ORDERS orders (default 1,000,000) loaded into a
// table already holding 100,000 rows, through node-postgres to a local PostgreSQL, by the same code
// `npm run backfill` runs: the command itself, once as a dry run and once for real.
// `npx tsx bench/backfill.ts [ORDERS] [--people N] [--dry-run-only]`; BENCH_DATABASE_URL names a
// server instead of the embedded one. The file is CSV, unsorted, with repeat customers, customers already
// in the table, second emails that merge customers, and placeholders.
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, rmSync, statSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { withClient } from '../harness/fresh-database.js'
import { seededRandom } from '../harness/random.js'
import type { BackfillReport } from '../lib/backfill/run.js'
import { DEFAULT_MATCH_KEYS, toKeyVersion } from '../lib/guard/match-keys.js'
import { createBenchDatabase, startServer } from './postgres.js'

const args = process.argv.slice(2)
const option = (name: string) => {
  const at = args.indexOf(name)
  return at < 0 ? undefined : args[at + 1]
}
const ORDERS = Number(
  args.find((arg, index) => /^\d+$/.test(arg) && !args[index - 1]?.startsWith('--')) ?? 1_000_000,
)
const EXISTING_CUSTOMERS = 50_000 // two rows each: 100,000 rows
// How many people place the orders: fewer repeat them more (memory follows people, not lines).
const PEOPLE = Number(option('--people') ?? 400_000)
// Only the dry run: a file of 10^7 lines, say, to show memory without writing it.
const isDryRunOnly = args.includes('--dry-run-only')
const DAY = 86_400_000
const T0 = Date.parse('2023-01-01T00:00:00Z')

const email = (person: number) => `customer${person}@shop.example`
const phone = (person: number) => `${4_150_000_000 + person}`

async function writeOrders(path: string): Promise<void> {
  const random = seededRandom(13)
  const out = createWriteStream(path)
  out.write('createdAt,email,phoneNumber,orderId\n')
  for (let n = 0; n < ORDERS; n++) {
    const person = Math.floor(random() * PEOPLE)
    const roll = random()
    // 8% a second email (merging once the person's phone is known), 5% phone only, 5% email
    // only, 1% a placeholder phone, the rest the person's own email and phone.
    const mail = roll < 0.08 ? `alt${person}@mail.example` : roll < 0.13 ? '' : email(person)
    const tel =
      roll >= 0.13 && roll < 0.18 ? '' : roll >= 0.18 && roll < 0.19 ? '0000000000' : phone(person)
    const at = new Date(T0 + Math.floor(random() * 3 * 365 * DAY)).toISOString()
    if (!out.write(`${at},${mail},${tel},o${n}\n`)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

const server = await startServer(process.env.BENCH_DATABASE_URL)
const database = await createBenchDatabase(server, 'backfill')
const path = join(tmpdir(), `backfill-bench-${process.pid}.csv`)
try {
  await withClient(database.url, async (client) => {
    // 50,000 existing customers of two rows each (email + phone, then a second phone), made in
    // 2024: orders of 2023 for them are older than their rows.
    await client.query(
      `insert into "Contact" ("id", "email", "phoneNumber", "emailKey", "phoneKey", "keyVersion",
         "linkedId", "linkPrecedence", "createdAt", "updatedAt")
       overriding system value
       select n * 2 - 1, 'customer' || n || '@shop.example', (4150000000 + n)::text,
         'customer' || n || '@shop.example', (4150000000 + n)::text, $1, null, 'primary'::"LinkPrecedence",
         $2::timestamptz + n * interval '1 second', now()
       from generate_series(1, $3::int) n
       union all
       select n * 2, 'customer' || n || '@shop.example', (4160000000 + n)::text,
         'customer' || n || '@shop.example', (4160000000 + n)::text, $1, n * 2 - 1, 'secondary'::"LinkPrecedence",
         $2::timestamptz + n * interval '1 second' + interval '1 day', now()
       from generate_series(1, $3::int) n`,
      [toKeyVersion(DEFAULT_MATCH_KEYS), '2024-01-01T00:00:00Z', EXISTING_CUSTOMERS],
    )
    await client.query(
      `select setval(pg_get_serial_sequence('"Contact"', 'id'), (select max("id") from "Contact"))`,
    )
    await client.query('analyze "Contact"')
  })
  const started = performance.now()
  await writeOrders(path)
  const generatedMs = Math.round(performance.now() - started)
  const load = loadavg()[0]?.toFixed(1)
  // Each run is the command itself, in a process of its own: its peak RSS is that run's alone.
  const run = (...flags: string[]): BackfillReport => {
    const result = spawnSync('npx', ['tsx', 'scripts/backfill.ts', path, ...flags], {
      env: { ...process.env, DATABASE_URL: database.url },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    })
    const last = result.stdout.trim().split('\n').at(-1) ?? ''
    if (result.status !== 0) throw new Error(`backfill exited ${result.status}: ${result.stderr}`)
    return JSON.parse(last) as BackfillReport
  }
  const dry = run('--dry-run')
  const report = isDryRunOnly ? dry : run()
  const figure = {
    orders: ORDERS,
    people: PEOPLE,
    isDryRunOnly,
    dryRunPeakRssMiB: dry.peakRssMiB,
    fileMiB: Math.round(statSync(path).size / 2 ** 20),
    existingRows: EXISTING_CUSTOMERS * 2,
    generatedMs,
    loadAverageBefore: load,
    dryRunMs: dry.durationMs,
    backfillMs: report.durationMs,
    lockHeldMs: report.lockHeldMs,
    peakRssMiB: report.peakRssMiB,
    phases: report.phases,
    dryRunPhases: dry.phases,
    rowsInserted: report.rowsInserted,
    rowsRelinked: report.rowsRelinked,
    newCustomers: report.newCustomers,
    mergedExisting: report.mergedExisting,
    quarantined: report.quarantined,
    events: report.events,
  }
  process.stdout.write(`${JSON.stringify(figure)}\n`)
  process.stdout.write(
    `Backfill: ${ORDERS.toLocaleString('en')} orders into ${(EXISTING_CUSTOMERS * 2).toLocaleString('en')} rows in ${(report.durationMs / 1000).toFixed(1)} s (dry run ${(dry.durationMs / 1000).toFixed(1)} s), ${isDryRunOnly ? 'only the dry run' : `identify writes held ${(report.lockHeldMs / 1000).toFixed(1)} s`}, peak RSS ${report.peakRssMiB} MiB (dry run ${dry.peakRssMiB} MiB), ${PEOPLE.toLocaleString('en')} people, load average ${load}\n`,
  )
} finally {
  rmSync(path, { force: true })
  await database.drop()
  await server.stop()
}
