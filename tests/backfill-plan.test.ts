// The backfill's pure planner (lib/core/backfill.ts) on small tables: what it keeps, inserts,
// links and records. The property test holds it to identify itself; these pin its rules by name.
import { describe, expect, test } from 'vitest'
import {
  type BackfillInput,
  type BackfillRow,
  type PlannedOrder,
  planBackfill,
} from '../lib/core/backfill.js'
import { DEFAULT_SHARING_LIMITS } from '../lib/core/blocklist.js'

const T0 = Date.parse('2024-01-01T00:00:00Z')
const NOW = new Date('2025-01-01T00:00:00Z')

const input = (rows: BackfillRow[] = [], blocked: string[] = []): BackfillInput => ({
  rows,
  blocked: new Set(blocked),
  pairs: [],
  limits: DEFAULT_SHARING_LIMITS,
  firstNewId: Math.max(0, ...rows.map((row) => row.id)) + 1,
  now: NOW,
})

const order = (
  line: number,
  minutes: number,
  emailKey: string | null,
  phoneKey: string | null,
): PlannedOrder => ({ line, at: T0 + minutes * 60_000, emailKey, phoneKey })

const insertsOf = (plan: ReturnType<typeof planBackfill>) => [...plan.inserts.rows()]

describe('the backfill planner', () => {
  test('rule 5: a repeated order keeps one row, however many lines repeat it', () => {
    const orders = Array.from({ length: 10_000 }, (_, index) => order(index + 2, 0, 'a@x.io', '1'))
    const plan = planBackfill(input(), orders)
    expect(insertsOf(plan)).toEqual([
      { id: 1, line: 2, linkedId: null, at: T0, hasEmail: true, hasPhone: true },
    ])
    expect(plan.summary).toMatchObject({ newCustomers: 1, unchangedOrders: 9_999 })
  })

  test('rule 1: an order joining a customer is stamped no older than its newest row', () => {
    const existing: BackfillRow = {
      id: 7,
      emailKey: 'a@x.io',
      phoneKey: null,
      linkedId: null,
      at: T0 + 60 * 60_000,
    }
    const plan = planBackfill(input([existing]), [order(2, 0, 'a@x.io', '1')])
    expect(insertsOf(plan)).toEqual([
      { id: 8, line: 2, linkedId: 7, at: existing.at, hasEmail: true, hasPhone: true },
    ])
    expect([...plan.events.all()].map((event) => [event.kind, event.contactIds])).toEqual([
      ['contact_linked', [7, 8]],
    ])
  })

  test('rule 1: an order holding two customers joins them under the older, with its line as evidence', () => {
    const plan = planBackfill(input(), [
      order(2, 0, 'a@x.io', '1'),
      order(3, 1, 'b@x.io', '2'),
      order(4, 2, 'a@x.io', '2'),
    ])
    expect(insertsOf(plan).map((row) => [row.id, row.linkedId])).toEqual([
      [1, null],
      [2, 1],
    ])
    const [merged] = [...plan.events.all()]
    expect(merged).toMatchObject({
      kind: 'customers_merged',
      primaryId: 1,
      absorbedIds: [2],
      joinedBy: 'both',
      evidence: { line: 4, emailKey: 'a@x.io', phoneKey: '2' },
    })
  })

  test('rule 2: an order whose every key is blocked is refused, and only the first 20 lines named', () => {
    const orders = Array.from({ length: 25 }, (_, index) => order(index + 2, 0, 'n/a', 'x'))
    const plan = planBackfill(input([], ['phoneNumber:x']), orders)
    expect(plan.unlinkable.count).toBe(25)
    expect(plan.unlinkable.lines).toEqual(Array.from({ length: 20 }, (_, index) => index + 2))
    expect(plan.inserts.count).toBe(0)
  })
})
