// Invariants of the linking core (lib/core/linking.ts) held against a reference model: union-find over
// every request seen. Pure: the Contact table is an array, only as a harness for the core.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createUnionFind, toKeys } from '../harness/union-find.js'
import type { ContactRow, Identifiers, IdentifyResponse } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import { hasWrites, planLinks, toIdentifyResponse } from '../lib/core/linking.js'
import { at, makeContact } from './support/fixtures.js'
import {
  applyPlan,
  byAge,
  describeCustomer,
  groupCustomers,
  readCluster,
  toCustomerKeys,
} from './support/reference-model.js'

// A small pool, so that requests collide often: links and merges are the common case.
const EMAILS = ['doc@hill.edu', 'marty@hill.edu', 'lorraine@hill.edu', 'biff@hill.edu']
const PHONES = ['1955', '1985', '2015', '88']
const START = at(0).getTime()
// Enough to shrink well and to meet most shapes of merge; the whole file stays within seconds.
const RUNS = 400

const identifiersArb: fc.Arbitrary<Identifiers> = fc.oneof(
  fc.record({ email: fc.constantFrom(...EMAILS), phoneNumber: fc.constant(null) }),
  fc.record({ email: fc.constant(null), phoneNumber: fc.constantFrom(...PHONES) }),
  fc.record({ email: fc.constantFrom(...EMAILS), phoneNumber: fc.constantFrom(...PHONES) }),
)

// Zero is drawn often, so equal `createdAt` happens and the id tie-break decides.
const elapsedMsArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.nat(86_400_000))

/** One request; `skewMs` is how far the clock of the instance serving it is off. */
type Step = { request: Identifiers; elapsedMs: number; skewMs?: number }
// 'medium' sizes: with fast-check's default small arrays four runs in five never merged two
// customers; now about two in three do, and one in five merges roots created in the same ms.
const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.record({ request: identifiersArb, elapsedMs: elapsedMsArb }),
  { minLength: 1, maxLength: 30, size: 'medium' },
)
// Instances whose clocks disagree by a few milliseconds (the case rule 4's clamp is written for).
const skewedStepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.record({
    request: identifiersArb,
    elapsedMs: elapsedMsArb,
    skewMs: fc.integer({ min: -5, max: 5 }),
  }),
  { minLength: 1, maxLength: 30, size: 'medium' },
)

/** One request carried through the harness, with the model's view after it. */
type Outcome = {
  request: Identifiers
  now: Date
  before: ContactRow[]
  after: ContactRow[]
  response: IdentifyResponse
  /** Whether the request carried an identifier no earlier request had. */
  bringsNewIdentifier: boolean
  components: string[][]
}

const nextId = (rows: readonly ContactRow[]) => Math.max(0, ...rows.map((row) => row.id)) + 1

// Frozen rows and clusters: a core that edited what it was handed would throw instead of passing.
const freeze = (rows: ContactRow[]) => rows.map((row) => Object.freeze(row))

/** Runs `steps` as the shell would: read the cluster, plan, write, answer. */
function identifyAll(steps: readonly Step[]): Outcome[] {
  const model = createUnionFind()
  const outcomes: Outcome[] = []
  let table: ContactRow[] = []
  let time = START
  for (const { request, elapsedMs, skewMs = 0 } of steps) {
    time += elapsedMs
    const now = new Date(time + skewMs)
    const bringsNewIdentifier = toKeys(request).some((key) => !model.has(key))
    model.add(request)
    const plan = planLinks(Object.freeze(readCluster(table, request)), keyedAsStored(request), now)
    const { rows, insertedId } = applyPlan(table, plan, nextId(table))
    const after = freeze(rows)
    const response = toIdentifyResponse(plan, insertedId)
    outcomes.push({
      request,
      now,
      before: table,
      after,
      response,
      bringsNewIdentifier,
      components: model.components(),
    })
    table = after
  }
  return outcomes
}

/** The customer (all its rows) holding the request's identifiers, found by walking the table. */
function findCustomer(rows: readonly ContactRow[], request: Identifiers): ContactRow[] {
  const keys = new Set(toKeys(request))
  const customers = [...groupCustomers(rows).values()].filter((customer) =>
    customer.some((row) => toKeys(row).some((key) => keys.has(key))),
  )
  expect(customers).toHaveLength(1)
  return customers[0] ?? []
}

const primariesOf = (customer: readonly ContactRow[]) =>
  customer.filter((row) => row.linkPrecedence === 'primary')

// Each check below makes one `expect` per table state: cheap enough for hundreds of runs, and its
// diff still shows every customer or row that broke the invariant.

/** Invariant 1: one customer per union-find component, holding exactly its identifiers. */
function expectOneCustomerPerComponent(rows: readonly ContactRow[], components: string[][]) {
  const customers = [...groupCustomers(rows).values()]
  expect({
    keys: customers.map(toCustomerKeys).sort(),
    primaries: customers.map((customer) => primariesOf(customer).length),
  }).toEqual({ keys: components, primaries: customers.map(() => 1) })
}

/** Invariant 2: the rows labelled primary are, per customer, just its oldest row. */
function expectOldestRowIsPrimary(rows: readonly ContactRow[]) {
  const customers = [...groupCustomers(rows).values()]
  expect(customers.map((customer) => primariesOf(customer).map((row) => row.id))).toEqual(
    customers.map((customer) => [[...customer].sort(byAge)[0]?.id]),
  )
}

/** Invariant 3: the root of each customer is primary; every other row links straight to it. */
function expectFlatCustomers(rows: readonly ContactRow[]) {
  const links = [...groupCustomers(rows)].flatMap(([rootId, customer]) =>
    customer.map(({ id, linkedId, linkPrecedence }) => ({ id, linkedId, linkPrecedence, rootId })),
  )
  expect(links).toEqual(
    links.map(({ id, rootId }) =>
      id === rootId
        ? { id, linkedId: null, linkPrecedence: 'primary', rootId }
        : { id, linkedId: rootId, linkPrecedence: 'secondary', rootId },
    ),
  )
}

const pickStored = ({ id, email, phoneNumber, createdAt }: ContactRow) => ({
  id,
  email,
  phoneNumber,
  createdAt,
})

describe('random request sequences against union-find', () => {
  test('rules 2-4: every connected component of identifiers is exactly one customer with one primary', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { after, components } of identifyAll(steps)) {
          expectOneCustomerPerComponent(after, components)
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('rule 3: the primary is the oldest row of its customer, by createdAt then id', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { after } of identifyAll(steps)) expectOldestRowIsPrimary(after)
      }),
      { numRuns: RUNS },
    )
  })

  test('rule 3: every secondary points straight at its primary, and a primary points nowhere', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { after } of identifyAll(steps)) expectFlatCustomers(after)
      }),
      { numRuns: RUNS },
    )
  })

  test('replaying a request already seen writes nothing and answers as a fresh read does', () => {
    fc.assert(
      fc.property(stepsArb, fc.nat(1_000), (steps, laterMs) => {
        const outcomes = identifyAll(steps)
        // Right after itself: the answer it had just been given.
        for (const { request, now, after, response } of outcomes) {
          const replay = planLinks(readCluster(after, request), keyedAsStored(request), now)
          expect({
            hasWrites: hasWrites(replay),
            response: toIdentifyResponse(replay, null),
          }).toEqual({
            hasWrites: false,
            response,
          })
        }
        // At the end, however the customer has grown since: what the table says now.
        const final = outcomes.at(-1)
        if (final === undefined) return
        const later = new Date(final.now.getTime() + laterMs)
        for (const { request } of outcomes) {
          const cluster = readCluster(final.after, request)
          const replay = planLinks(cluster, keyedAsStored(request), later)
          expect({
            hasWrites: hasWrites(replay),
            response: toIdentifyResponse(replay, null),
          }).toEqual({
            hasWrites: false,
            response: describeCustomer(cluster),
          })
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('rule 6: the answer holds every identifier of the request, the primary first, secondaries in row order', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { request, after, response } of identifyAll(steps)) {
          const { emails, phoneNumbers, primaryContactId, secondaryContactIds } = response.contact
          const customer = findCustomer(after, request)
          const primary = primariesOf(customer)[0]
          const others = customer.filter((row) => row !== primary).sort(byAge)
          expect({
            hasRequestEmail: request.email === null || emails.includes(request.email),
            hasRequestPhoneNumber:
              request.phoneNumber === null || phoneNumbers.includes(request.phoneNumber),
            primaryContactId,
            firstEmail: primary?.email === null ? null : emails[0],
            firstPhoneNumber: primary?.phoneNumber === null ? null : phoneNumbers[0],
            secondaryContactIds,
            hasDistinctEmails: new Set(emails).size === emails.length,
            hasDistinctPhoneNumbers: new Set(phoneNumbers).size === phoneNumbers.length,
          }).toEqual({
            hasRequestEmail: true,
            hasRequestPhoneNumber: true,
            primaryContactId: primary?.id,
            firstEmail: primary?.email,
            firstPhoneNumber: primary?.phoneNumber,
            secondaryContactIds: others.map((row) => row.id),
            hasDistinctEmails: true,
            hasDistinctPhoneNumbers: true,
          })
          // And, all at once, the whole answer as the task statement describes it.
          expect(response).toEqual(describeCustomer(customer))
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('rules 2 and 4: rows are never lost or rewritten, and one is added exactly when an identifier is new', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { before, after, bringsNewIdentifier } of identifyAll(steps)) {
          const kept = new Map(after.map((row) => [row.id, row]))
          expect({
            added: after.length - before.length,
            stored: before.map((row) => {
              const now = kept.get(row.id)
              return now && pickStored(now)
            }),
          }).toEqual({ added: bringsNewIdentifier ? 1 : 0, stored: before.map(pickStored) })
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('rules 3 and 4: when instance clocks disagree by a few ms, each customer still has one primary, its oldest row, and secondaries point straight at it', () => {
    fc.assert(
      fc.property(skewedStepsArb, (steps) => {
        for (const { after, components } of identifyAll(steps)) {
          expectOneCustomerPerComponent(after, components)
          expectOldestRowIsPrimary(after)
          expectFlatCustomers(after)
        }
      }),
      { numRuns: RUNS },
    )
  })
})

/** A legacy forest row: its identifiers, and the index of an earlier row it hangs from, if any. */
type LegacyRow = {
  identifiers: Identifiers
  parent: number | null
  elapsedMs: number
  idGap: number
  /** Whether an older service wrote the wrong `linkPrecedence` for the row's link. */
  isMislabelled: boolean
}

/**
 * Builds a valid forest from older services: each row hangs from an earlier one (so chains of
 * secondaries are common), ids and `createdAt` increase along creation, ties in time allowed;
 * only `linkPrecedence` may be wrong, and only where `isMislabelled` says so.
 */
function buildForest(legacy: readonly LegacyRow[]): ContactRow[] {
  const rows: ContactRow[] = []
  let id = 0
  let time = START
  legacy.forEach(({ identifiers, parent, elapsedMs, idGap, isMislabelled }, index) => {
    id += idGap
    time += elapsedMs
    const linkedId = parent === null || index === 0 ? null : (rows[parent % index]?.id ?? null)
    const linkPrecedence = (linkedId === null) !== isMislabelled ? 'primary' : 'secondary'
    rows.push(
      makeContact({ id, ...identifiers, linkedId, linkPrecedence, createdAt: new Date(time) }),
    )
  })
  return freeze(rows)
}

// One row in four is a root; about half of the touched customers hold a chain two links deep.
const toForestArb = (isMislabelledArb: fc.Arbitrary<boolean>) =>
  fc
    .array(
      fc.record({
        identifiers: identifiersArb,
        parent: fc.option(fc.nat(), { nil: null, freq: 4 }),
        elapsedMs: fc.oneof(fc.constant(0), fc.nat(60_000)),
        idGap: fc.integer({ min: 1, max: 3 }),
        isMislabelled: isMislabelledArb,
      }),
      { minLength: 1, maxLength: 12, size: 'medium' },
    )
    .map(buildForest)

describe('legacy data', () => {
  test.each([
    ['valid labels', toForestArb(fc.constant(false))],
    // Labels are not what rule 3 trusts (links are), so wrong ones must be corrected, not followed.
    ['some linkPrecedence labels wrong', toForestArb(fc.boolean())],
  ])(
    'rule 5: one request into a legacy forest (%s) flattens the whole customer under its oldest root',
    (_, forestArb) => {
      fc.assert(
        fc.property(forestArb, identifiersArb, elapsedMsArb, (forest, request, elapsedMs) => {
          const cluster = readCluster(forest, request)
          fc.pre(cluster.length > 0)
          // The harness reads whole trees (rule 1): every tree it touches, and nothing else.
          const trees = [...groupCustomers(forest).values()]
          const members = new Set(cluster.map((row) => row.id))
          for (const tree of trees) {
            expect(tree.filter((row) => members.has(row.id)).length).toBeOneOf([0, tree.length])
          }

          const oldestRoot = cluster.filter((row) => row.linkedId === null).sort(byAge)[0]
          const now = new Date(
            Math.max(...forest.map((row) => row.createdAt.getTime())) + elapsedMs,
          )
          const plan = planLinks(cluster, keyedAsStored(request), now)
          const { rows: after, insertedId } = applyPlan(forest, plan, nextId(forest))

          expect(oldestRoot).toBeDefined()
          const survivorId = oldestRoot?.id
          for (const row of after) {
            if (row.id === survivorId) {
              expect(row).toMatchObject({ linkedId: null, linkPrecedence: 'primary' })
            } else if (members.has(row.id) || row.id === insertedId) {
              expect(row).toMatchObject({ linkedId: survivorId, linkPrecedence: 'secondary' })
            } else {
              expect(row).toBe(forest.find((old) => old.id === row.id))
            }
          }
          expect(toIdentifyResponse(plan, insertedId).contact.primaryContactId).toBe(survivorId)
          expect(
            hasWrites(planLinks(readCluster(after, request), keyedAsStored(request), now)),
          ).toBe(false)
        }),
        { numRuns: RUNS },
      )
    },
  )
})

describe('the harness itself, on fixed rows', () => {
  // Legacy chain 3 -> 2 -> 1, a sibling 4 -> 1, and an unrelated customer 5.
  const chain = [
    makeContact({ id: 1, email: 'doc@hill.edu' }),
    makeContact({ id: 2, phoneNumber: '1955', linkedId: 1 }),
    makeContact({ id: 3, email: 'marty@hill.edu', linkedId: 2 }),
    makeContact({ id: 4, phoneNumber: '1985', linkedId: 1 }),
    makeContact({ id: 5, email: 'biff@hill.edu' }),
  ]

  test.each<[string, Identifiers]>([
    ['the leaf of a chain', { email: 'marty@hill.edu', phoneNumber: null }],
    ['the middle of a chain', { email: null, phoneNumber: '1955' }],
    ['the root', { email: 'doc@hill.edu', phoneNumber: null }],
    ['a sibling', { email: null, phoneNumber: '1985' }],
  ])('reads the whole legacy tree from %s, and nothing else', (_, request) => {
    expect(readCluster(chain, request).map((row) => row.id)).toEqual([1, 2, 3, 4])
  })

  test('applies a plan as the store does: promote, relink, insert with the next id', () => {
    const plan = planLinks(
      readCluster(chain, { email: 'marty@hill.edu', phoneNumber: '88' }),
      keyedAsStored({ email: 'marty@hill.edu', phoneNumber: '88' }),
      at(10),
    )
    const { rows, insertedId } = applyPlan(chain, plan, 6)
    expect(insertedId).toBe(6)
    expect(rows.map((row) => [row.id, row.linkedId, row.linkPrecedence])).toEqual([
      [1, null, 'primary'],
      [2, 1, 'secondary'],
      [3, 1, 'secondary'],
      [4, 1, 'secondary'],
      [5, null, 'primary'],
      [6, 1, 'secondary'],
    ])
  })
})

describe('the write locks of two requests overlap whenever their clusters do', () => {
  // Any table older services may have left: each row links to any other row or to none, so
  // chains, orphans and cycles all occur. Each row has its own email and phone number, so a
  // request can name any one row, or two rows of different components.
  const tableArb = fc
    .integer({ min: 1, max: 12 })
    .chain((size) =>
      fc.tuple(
        fc.array(fc.option(fc.integer({ min: 1, max: size + 2 }), { nil: null }), {
          minLength: size,
          maxLength: size,
        }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: size, maxLength: size }),
      ),
    )
    .map(([links, ages]) =>
      links.map((linkedId, index) =>
        makeContact({
          id: index + 1,
          email: `row${index + 1}@x.io`,
          phoneNumber: `${index + 1}`,
          // A link to itself or past the end stands for a deleted or missing parent.
          linkedId: linkedId === index + 1 ? null : linkedId,
          createdAt: at(ages[index] ?? 0),
        }),
      ),
    )

  test('every reader of a row agrees on the leader of its component, so writers share a lock', () => {
    fc.assert(
      fc.property(tableArb, fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), (rows, picks) => {
        const row = (n: number | undefined) => ((n ?? 0) % rows.length) + 1
        const [a, b]: [Identifiers, Identifiers] = [
          { email: `row${row(picks[0])}@x.io`, phoneNumber: `${row(picks[1])}` },
          { email: `row${row(picks[2])}@x.io`, phoneNumber: `${row(picks[3])}` },
        ]
        const [clusterA, clusterB] = [readCluster(rows, a), readCluster(rows, b)]
        const shared = clusterA.some((row) => clusterB.some((other) => other.id === row.id))
        const locksA = new Set(planLinks(clusterA, keyedAsStored(a), at(100)).rootIds)
        const locksB = planLinks(clusterB, keyedAsStored(b), at(100)).rootIds
        expect(locksB.some((id) => locksA.has(id))).toBe(shared)
      }),
      { numRuns: 2_000 },
    )
  })

  // contact_lock_keys (drizzle/0004_bounded_cluster_locks.sql) locks at most `bound` leaders one by
  // one and covers more with one exclusive lock over all clusters, which every write with a leader
  // takes, shared when it locks its leaders one by one. Bounds this small make tables of 12 rows
  // cross them.
  test('with leaders beyond a bound covered by one lock over all clusters, overlapping writers still conflict', () => {
    type Lock = { key: string; isShared: boolean }
    const toLocks = (leaderIds: number[], bound: number): Lock[] => {
      if (leaderIds.length === 0) return []
      if (leaderIds.length > bound) return [{ key: 'clusters', isShared: false }]
      const leaders = leaderIds.map((id) => ({ key: `root:${id}`, isShared: false }))
      return [{ key: 'clusters', isShared: true }, ...leaders]
    }
    const isConflicting = (a: Lock[], b: Lock[]) =>
      a.some((lock) =>
        b.some((other) => other.key === lock.key && !(other.isShared && lock.isShared)),
      )
    fc.assert(
      fc.property(
        tableArb,
        fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (rows, picks, bound) => {
          const row = (n: number | undefined) => ((n ?? 0) % rows.length) + 1
          const [a, b]: [Identifiers, Identifiers] = [
            { email: `row${row(picks[0])}@x.io`, phoneNumber: `${row(picks[1])}` },
            { email: `row${row(picks[2])}@x.io`, phoneNumber: `${row(picks[3])}` },
          ]
          const [clusterA, clusterB] = [readCluster(rows, a), readCluster(rows, b)]
          const shared = clusterA.some((row) => clusterB.some((other) => other.id === row.id))
          const locksA = toLocks(planLinks(clusterA, keyedAsStored(a), at(100)).rootIds, bound)
          const locksB = toLocks(planLinks(clusterB, keyedAsStored(b), at(100)).rootIds, bound)
          if (shared) expect(isConflicting(locksA, locksB)).toBe(true)
        },
      ),
      { numRuns: 2_000 },
    )
  })
})
