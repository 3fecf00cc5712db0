// Every statement the service issues, explained against a store of 100,000 rows: none may scan
// `Contact` sequentially, or a request's cost would grow with the table (README, Performance).
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { layOutCustomers, loadCustomers, toRowIdentifiers } from '../bench/dataset.js'
import type { Identifiers } from '../lib/contact.js'
import { createContactStore } from '../lib/contact-store.js'
import { identifyContact } from '../lib/identify.js'
import { openTestDatabase, type TestDatabase } from './support/database.js'

const ROWS = 100_000

type Statement = { text: string; values: unknown[] }
type PlanNode = {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}

let database: TestDatabase
let statements: Statement[] = []

beforeAll(async () => {
  database = await openTestDatabase('node-postgres')
  // Record every statement with its parameters, as the wire sees it (tests/support/database.ts
  // records only the text).
  const pool = (database.db as unknown as { $client: pg.Pool }).$client
  pool.on('connect', (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as { query: unknown }).query = (...args: unknown[]) => {
      const [query, values] = args as [string | { text: string; values?: unknown[] }, unknown]
      const text = typeof query === 'string' ? query : query.text
      const params = Array.isArray(values) ? values : typeof query === 'string' ? [] : query.values
      statements.push({ text, values: params ?? [] })
      return original(...args)
    }
  })
  const client = new pg.Client({ connectionString: database.url ?? '' })
  await client.connect()
  try {
    await loadCustomers(client, layOutCustomers(ROWS, 1), 0)
    await client.query('analyze "Contact"')
  } finally {
    await client.end()
  }
})
afterAll(() => database.dispose())

// Walks a plan and every sub-plan (CTEs, InitPlans, SubPlans hang under `Plans`).
function* walkPlan(node: PlanNode): Generator<PlanNode> {
  yield node
  for (const child of node.Plans ?? []) yield* walkPlan(child)
}

const explain = async (prefix: string, statement: Statement) => {
  const [row] = await database.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `explain (${prefix}format json) ${statement.text}`,
    prefix === '' ? statement.values : undefined,
  )
  const plan = row?.['QUERY PLAN'][0]?.Plan
  if (plan === undefined) throw new Error(`No plan for ${statement.text}`)
  return [...walkPlan(plan)]
}

// The statements the write protocol issues, by what they do (README, "Concurrency protocol").
const ROLES: [string, RegExp][] = [
  ['read', /^select .* from "Contact" where "Contact"."id" in \(\s*with recursive/s],
  ['lock', /^select contact_lock_cluster\(/],
  ['check', /^select contact_assert_cluster_version\(/],
  ['promote', /^update "Contact" set "linkedId" = \$1, "linkPrecedence" = \$2/],
  ['relink', /^update "Contact" set .* where "Contact"."id" in \(/s],
  ['insert', /^insert into "Contact"/],
]
const toRole = (text: string) =>
  ROLES.find(([, pattern]) => pattern.test(text))?.[0] ??
  (/^(begin|commit|rollback)\b/.test(text) ? 'transaction' : text)

test(
  `no statement the service issues scans Contact sequentially, on ${ROWS.toLocaleString('en')} rows`,
  async () => {
    // A customer whose primary was soft-deleted: its oldest live row must be promoted.
    await database.query(`
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "deletedAt")
      values ('gone@explain.test', '+9001', null, 'primary', '2020-01-01', '2020-02-01');
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      select 'orphan@explain.test', '+9002', "id", 'secondary', '2020-01-02' from "Contact"
      where "email" = 'gone@explain.test'`)
    const known = toRowIdentifiers(0, 0)
    const requests: Identifiers[] = [
      known, // returning: the read alone
      { email: known.email, phoneNumber: null }, // email only
      { email: null, phoneNumber: known.phoneNumber }, // phone only
      { email: 'new@explain.test', phoneNumber: '+9003' }, // a new customer: insert
      { email: 'more@explain.test', phoneNumber: known.phoneNumber }, // new information: insert
      { email: toRowIdentifiers(2, 0).email, phoneNumber: toRowIdentifiers(4, 0).phoneNumber }, // merge: relink
      { email: 'orphan@explain.test', phoneNumber: null }, // promote
    ]
    statements = []
    const store = createContactStore(database)
    for (const request of requests) {
      const result = await identifyContact(store, request)
      expect(result.ok, JSON.stringify(result)).toBe(true)
    }

    const explained = statements.filter((statement) => toRole(statement.text) !== 'transaction')
    expect(new Set(explained.map((statement) => toRole(statement.text)))).toEqual(
      new Set(ROLES.map(([role]) => role)),
    )
    const { server_version_num: version } = (
      await database.query<{ server_version_num: string }>('show server_version_num')
    )[0] ?? { server_version_num: '0' }
    const scans: string[] = []
    for (const statement of explained) {
      // The plan for these parameters, and (Postgres 16+) the generic plan a prepared statement
      // may switch to after a few executions.
      const prefixes = Number(version) >= 160_000 ? ['', 'generic_plan, '] : ['']
      for (const prefix of prefixes) {
        for (const node of await explain(prefix, statement)) {
          if (node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'Contact') {
            scans.push(`${toRole(statement.text)} (${prefix || 'custom plan'}): ${statement.text}`)
          }
        }
      }
    }
    expect(scans).toEqual([])
  },
)
