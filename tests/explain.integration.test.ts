// Every statement the service issues, explained against a store of 100,000 rows and against a
// young table that was never analysed: none may read `Contact` in full, by a sequential scan or an
// index scan without a condition (such as the outer side of a merge join, or a whole partial index
// scanned to filter on its predicate), or a request's cost would grow with the table (README,
// Performance).
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { layOutCustomers, loadCustomers, toRowIdentifiers } from '../harness/dataset.js'
import type { Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import { identifyContact } from '../lib/identify/shell.js'
import { createContactStore } from '../lib/identify/store.js'
import { openTestDatabase, type TestDatabase } from './support/database.js'

const ROWS = 100_000

type Statement = { text: string; values: unknown[] }
type PlanNode = {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Index Cond'?: string
  Plans?: PlanNode[]
}

let database: TestDatabase
let statements: Statement[] = []

// Records every statement sent through `database`'s driver with its parameters, as the wire sees
// it (tests/support/database.ts records only the text).
function recordStatements(database: TestDatabase): void {
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
}

beforeAll(async () => {
  database = await openTestDatabase('node-postgres')
  recordStatements(database)
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
  (node['Relation Name'] === 'Contact' &&
    (node['Node Type'] === 'Seq Scan' ||
      (/^Index (Only )?Scan$/.test(node['Node Type']) && node['Index Cond'] === undefined))) ||
  (node['Node Type'] === 'Bitmap Index Scan' &&
    node['Index Name']?.startsWith('Contact_') === true &&
    node['Index Cond'] === undefined)

// Walks a plan and every sub-plan (CTEs, InitPlans, SubPlans hang under `Plans`).
function* walkPlan(node: PlanNode): Generator<PlanNode> {
  yield node
  for (const child of node.Plans ?? []) yield* walkPlan(child)
}

const explain = async (database: TestDatabase, prefix: string, statement: Statement) => {
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
  ['linkable', /^select contact_assert_linkable\(/],
  ['read', /^select .* from "Contact" where .*with recursive/s],
  ['promote', /^update "Contact" set .* where "Contact"."id" = \$\d+$/s],
  ['relink', /^update "Contact" set .* where "Contact"."id" = any\(/s],
  ['insert', /^insert into "Contact" /],
  ['record', /^insert into "ContactEvent"/],
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
  expect(await findFullScansOfRequests(database, requests)).toEqual([])
})

// Identifies each of `requests` through the service's store, then returns every full read of
// Contact in the plans of the statements that took.
async function findFullScansOfRequests(
  database: TestDatabase,
  requests: Identifiers[],
): Promise<string[]> {
  statements = []
  const store = createContactStore(database)
  for (const request of requests) {
    const result = await identifyContact(store, keyedAsStored(request))
    expect(result.ok, JSON.stringify(result)).toBe(true)
  }
  return findFullScans(database, statements)
}

// Returns every full read of Contact in the plans of `recorded`, after checking that they cover
// every kind of statement the write protocol issues.
async function findFullScans(database: TestDatabase, recorded: Statement[]): Promise<string[]> {
  const explained = recorded.filter((statement) => toRole(statement.text) !== 'transaction')
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
      for (const node of await explain(database, prefix, statement)) {
        if (isFullScanOfContact(node)) {
          const plan = prefix === '' ? 'with its parameters' : 'generic plan'
          scans.push(
            `${toRole(statement.text)} (${plan}): ${node['Node Type']} ${node['Index Name'] ?? ''}`,
          )
        }
      }
    }
  }
  return scans
}

test('a young table with no statistics yet gets the same plans: one customer of 1,000 rows after churn', async () => {
  const young = await openTestDatabase('node-postgres')
  try {
    recordStatements(young)
    // As on a fresh deployment: many rows written and rewritten before autovacuum analyses them.
    await young.query(`
      alter table "Contact" set (autovacuum_enabled = false);
      insert into "Contact" ("email", "phoneNumber", "linkPrecedence", "createdAt")
      values ('first@young.test', '+100', 'primary', '2020-01-01');
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      select 'c' || n || '@young.test', '+1' || (n % 300), 1, 'secondary', '2020-01-02'
      from generate_series(2, 1000) n;
      insert into "Contact" ("email", "phoneNumber", "linkPrecedence", "createdAt")
      select 'p' || n || '@young.test', '+2' || n, 'primary', '2020-01-03' from generate_series(1, 20) n;
      update "Contact" set "updatedAt" = now() where "id" > 1;
      update "Contact" set "updatedAt" = now() where "id" > 500;
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "deletedAt")
      values ('gone@young.test', '+9001', null, 'primary', '2020-01-01', '2020-02-01');
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      select 'orphan@young.test', '+9002', "id", 'secondary', '2020-01-02' from "Contact"
      where "email" = 'gone@young.test'`)
    const [stats] = await young.query<{ reltuples: number }>(
      `select reltuples from pg_class where relname = 'Contact'`,
    )
    expect(stats?.reltuples).toBe(-1)
    const requests: Identifiers[] = [
      { email: 'c7@young.test', phoneNumber: '+17' }, // the big customer: the read alone
      { email: 'new@young.test', phoneNumber: '+9003' }, // insert
      { email: 'more@young.test', phoneNumber: '+17' }, // insert into the big customer
      { email: 'p1@young.test', phoneNumber: '+22' }, // merge: relink
      { email: 'orphan@young.test', phoneNumber: null }, // promote
    ]
    expect(await findFullScansOfRequests(young, requests)).toEqual([])
  } finally {
    await young.dispose()
  }
})

test('a table one customer of 20,000 rows dominates gets the same plans once analysed', async () => {
  const skewed = await openTestDatabase('node-postgres')
  try {
    recordStatements(skewed)
    // Every link points at one row, so ANALYZE finds one distinct "linkedId": a planner that
    // trusts it expects every child lookup to return most of the table. (The orphan, added after,
    // is there for the promote statement.)
    await skewed.query(`
      insert into "Contact" ("email", "phoneNumber", "linkPrecedence", "createdAt")
      values ('big@skewed.test', '+100', 'primary', '2020-01-01');
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      select 'b' || n || '@skewed.test', '+1' || n, 1, 'secondary', '2020-01-02'
      from generate_series(2, 20000) n;
      insert into "Contact" ("email", "phoneNumber", "linkPrecedence", "createdAt")
      select 's' || n || '@skewed.test', '+2' || n, 'primary', '2020-01-03' from generate_series(1, 200) n;
      analyze "Contact";
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "deletedAt")
      values ('gone@skewed.test', '+9001', null, 'primary', '2020-01-01', '2020-02-01');
      insert into "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
      select 'orphan@skewed.test', '+9002', "id", 'secondary', '2020-01-02' from "Contact"
      where "email" = 'gone@skewed.test'`)
    const requests: Identifiers[] = [
      { email: 'b7@skewed.test', phoneNumber: null }, // the big customer: the read alone
      { email: 'new@skewed.test', phoneNumber: '+9003' }, // insert
      { email: 'more@skewed.test', phoneNumber: '+21' }, // insert into a small customer
      { email: 's2@skewed.test', phoneNumber: '+23' }, // merge: relink
      { email: 'orphan@skewed.test', phoneNumber: null }, // promote
    ]
    expect(await findFullScansOfRequests(skewed, requests)).toEqual([])
  } finally {
    await skewed.dispose()
  }
})
