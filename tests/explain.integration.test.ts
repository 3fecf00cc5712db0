// Every statement the service issues, explained against a store of 100,000 rows: none may read
// `Contact` in full, by a sequential scan or an index scan without a condition (such as the outer
// side of a merge join), or a request's cost would grow with the table (README, Performance).
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
  'Index Cond'?: string
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

// Whether a plan node reads every row of Contact, or every entry of one of its indexes.
const isFullScanOfContact = (node: PlanNode) =>
  node['Relation Name'] === 'Contact' &&
  (node['Node Type'] === 'Seq Scan' ||
    (/^Index (Only )?Scan$/.test(node['Node Type']) && node['Index Cond'] === undefined))

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

// The statements the write protocol issues, by what they do (README, "Concurrency protocol"); the
// first pattern that matches names a statement.
const ROLES: [string, RegExp][] = [
  ['lock', /^select contact_lock_cluster\(/],
  ['check', /^select contact_assert_cluster_version\(/],
  ['read', /^select .* from "Contact" where .*with recursive/s],
  ['promote', /^update "Contact" set .* where "Contact"."id" = \$\d+$/s],
  ['relink', /^update "Contact" set .* where "Contact"."id" in \(/s],
  ['insert', /^insert into "Contact"/],
]
const toRole = (text: string) =>
  ROLES.find(([, pattern]) => pattern.test(text))?.[0] ??
  (/^(begin|commit|rollback)\b/.test(text) ? 'transaction' : text)

test(`no statement the service issues reads Contact in full, on ${ROWS.toLocaleString('en')} rows`, async () => {
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
        if (isFullScanOfContact(node)) {
          const plan = prefix === '' ? 'with its parameters' : 'generic plan'
          scans.push(`${toRole(statement.text)} (${plan}): ${node['Node Type']}`)
        }
      }
    }
  }
  expect(scans).toEqual([])
})
