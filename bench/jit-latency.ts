// `npm run bench:jit -- --url <postgres url> [--load] [--baseline <tree>] [--requests 300]
// [--seed 1]`: identify's latency on a JIT-capable server (README, Performance). Sends one request at a time through the service's store on
// node-postgres (one pooled connection) against a store loaded with bench/dataset.ts (`--load`
// loads `--rows` rows into the empty, migrated database first), and prints the p50 and p95 of each
// kind: returning customer, new information for a customer, merge of two customers. With
// `--baseline`, the same requests alternate between this tree's lib/ and that tree's (e.g. a
// commit before the fix, unpacked with `git archive`, in the flat layout lib/ once had), so both
// share the machine's noise.
// PGOPTIONS='-c jit=off' gives the lower bound of a server without JIT.
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import {
  layOutCustomers,
  loadCustomers,
  toEmail,
  toPhoneNumber,
  toRowIdentifiers,
} from '../harness/dataset.js'
import { seededRandom } from '../harness/random.js'
import type { Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import { selectRows } from '../lib/db/database.js'
import * as db from '../lib/db/open.js'
import * as identify from '../lib/identify/shell.js'
import * as contactStore from '../lib/identify/store.js'
import * as env from '../lib/platform/env.js'
import { summarizeLatencies } from './stats.js'

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    baseline: { type: 'string' },
    rows: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    load: { type: 'boolean', default: false },
  },
})
if (args.url === undefined) throw new Error('--url is required')
const url = args.url
const rows = Number(args.rows)
const layout = layOutCustomers(rows, 20261125 + rows)

if (args.load) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await loadCustomers(client, layout, 0)
  await client.query('vacuum analyze "Contact"')
  await client.end()
}

// The lib/ modules a tree identifies with.
type Lib = {
  contactStore: Pick<typeof contactStore, 'createContactStore'>
  db: Pick<typeof db, 'openDatabase'>
  env: Pick<typeof env, 'readEnv'>
  identify: Pick<typeof identify, 'identifyContact'>
}
// A baseline in the flat layout of lib/ before its folders (commit 4288ca1 and earlier).
const loadLib = async (tree: string): Promise<Lib> => ({
  contactStore: await import(`${tree}/lib/contact-store.ts`),
  db: await import(`${tree}/lib/db.ts`),
  env: await import(`${tree}/lib/env.ts`),
  identify: await import(`${tree}/lib/identify.ts`),
})
const trees: [string, Lib][] = [['this tree', { contactStore, db, env, identify }]]
if (args.baseline !== undefined) trees.push([args.baseline, await loadLib(args.baseline)])

// Kinds as in bench/workload.ts: returning and new-info requests use even customers, merges join
// two odd ones (the older's first email, the younger's first phone). The seed varies per run so
// that each run merges customers no earlier run merged.
const random = seededRandom(Number(args.seed))
const customers = layout.sizes.length
const pick = (below: number) => Math.floor(random() * below)
const pickEven = () => 2 * pick(Math.floor(customers / 2))
const pickRow = (customer: number) => toRowIdentifiers(customer, pick(layout.sizes[customer] ?? 1))
let fresh = 0
const KINDS: [string, string, () => Identifiers][] = [
  ['returning', 'unchanged', () => pickRow(pickEven())],
  [
    'new-info',
    'linked',
    () => ({
      email: `jit${args.seed}.${fresh++}@bench.test`,
      phoneNumber: pickRow(pickEven()).phoneNumber,
    }),
  ],
  [
    'merge',
    'merged',
    () => {
      const [a, b] = [pickEven() + 1, pickEven() + 1]
      const [older, younger] = a < b ? [a, b] : [b, a]
      return { email: toEmail(older, 0), phoneNumber: toPhoneNumber(younger, 0) }
    },
  ],
]

const runners = await Promise.all(
  trees.map(async ([name, lib]) => {
    const database = await lib.db.openDatabase(
      lib.env.readEnv({
        DATABASE_URL: url,
        DATABASE_DRIVER: 'node-postgres',
        DATABASE_POOL_SIZE: '1',
      }),
    )
    const store = lib.contactStore.createContactStore(database)
    return { name, lib, database, store }
  }),
)
const [{ database: probe } = { database: null }] = runners
if (probe === null) throw new Error('no tree to run')
const info = await selectRows<{ jit: string; version: string }>(
  probe.db,
  sql`select current_setting('jit') as jit, version() as version`,
)
process.stdout.write(`${info[0]?.version}\nsession jit = ${info[0]?.jit}\n`)

for (const [kind, expected, next] of KINDS) {
  const samples = runners.map(() => new Float64Array(Number(args.requests)))
  const unexpected = runners.map(() => 0)
  for (let i = -Number(args.warmup); i < Number(args.requests); i++) {
    // Alternating which tree goes first, so neither always follows the other's writes.
    for (let turn = 0; turn < runners.length; turn++) {
      const index = (i + turn + runners.length) % runners.length
      const runner = runners[index]
      if (runner === undefined) continue
      const request = next()
      const started = performance.now()
      const result = await runner.lib.identify.identifyContact(runner.store, keyedAsStored(request))
      if (i < 0) continue
      ;(samples[index] as Float64Array)[i] = performance.now() - started
      if (!result.ok || result.outcome !== expected)
        unexpected[index] = (unexpected[index] ?? 0) + 1
    }
  }
  runners.forEach((runner, index) => {
    const summary = summarizeLatencies(samples[index] as Float64Array)
    process.stdout.write(
      `${kind.padEnd(10)} ${runner.name.padEnd(14)} p50 ${summary.p50} ms  p95 ${summary.p95} ms` +
        `  mean ${summary.mean} ms${unexpected[index] ? `  unexpected outcomes: ${unexpected[index]}` : ''}\n`,
    )
  })
}
await Promise.all(runners.map((runner) => runner.database.close()))
