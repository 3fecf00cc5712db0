// Why two contacts are one customer (lib/core/explain.ts), one table per rule. Pure: no database.
import { describe, expect, test } from 'vitest'
import { type ExplainedRow, explainLink, type RequestPair } from '../lib/core/explain.js'

const row = (
  id: number,
  email: string | null,
  phoneNumber: string | null,
  linkedId: number | null = null,
): ExplainedRow => ({ id, email, phoneNumber, linkedId })
const pair = (email: string, phoneNumber: string, primaryId: number, absorbedIds: number[]) => ({
  email,
  phoneNumber,
  at: new Date('2024-04-20T05:30:00Z'),
  requestId: 'r6',
  primaryId,
  absorbedIds,
})
const kinds = (rows: ExplainedRow[], pairs: RequestPair[], from: number, to: number) =>
  explainLink(rows, pairs, from, to)?.map(({ kind, from, to }) => `${from}-${kind}-${to}`) ?? null

describe('the chain between two contacts', () => {
  test.each<[string, ExplainedRow[], RequestPair[], number, number, string[] | null]>([
    [
      'rule 1: two rows sharing a phone number are one step apart',
      [row(1, 'lorraine@hillvalley.edu', '123456'), row(23, 'mcfly@hillvalley.edu', '123456', 1)],
      [],
      1,
      23,
      ['1-shared-phone-23'],
    ],
    [
      'rule 1: a chain crosses identifiers: email, then phone',
      [row(1, 'a', '1'), row(2, 'a', '2', 1), row(3, 'c', '2', 1)],
      [],
      1,
      3,
      ['1-shared-email-2', '2-shared-phone-3'],
    ],
    [
      "rule 2: the task statement's merge without a new row is explained by its request pair",
      [row(3, 'george@hillvalley.edu', '919191'), row(4, 'biffsucks@hillvalley.edu', '717171', 3)],
      [pair('george@hillvalley.edu', '717171', 3, [4])],
      4,
      3,
      ['4-request-pair-3'],
    ],
    [
      'rule 3: a stored link is not used while shared identifiers join the rows',
      [row(1, 'a', '1'), row(2, 'a', '2', 1), row(3, 'c', '2', 1)],
      [],
      3,
      1,
      ['3-shared-phone-2', '2-shared-email-1'],
    ],
    [
      'rule 3: rows that share nothing on record are joined by their stored link',
      [row(1, 'a', null), row(2, 'b', null, 1)],
      [],
      2,
      1,
      ['2-recorded-link-1'],
    ],
    [
      'rule 4: a shared identifier is preferred to a request pair of the same length',
      [row(1, 'a', '1'), row(2, 'b', '1', 1)],
      [pair('a', '1', 1, [])],
      1,
      2,
      ['1-shared-phone-2'],
    ],
    ['a contact to itself is a chain of no steps', [row(1, 'a', null)], [], 1, 1, []],
    ['a contact that is not among the rows has no chain', [row(1, 'a', null)], [], 1, 2, null],
  ])('%s', (_, rows, pairs, from, to, expected) => {
    expect(kinds(rows, pairs, from, to)).toEqual(expected)
  })
})

test('a step says in words what joins its contacts', () => {
  const [step] =
    explainLink(
      [row(3, 'george@hillvalley.edu', '919191'), row(4, 'biffsucks@hillvalley.edu', '717171', 3)],
      [pair('george@hillvalley.edu', '717171', 3, [4])],
      3,
      4,
    ) ?? []
  expect(step?.text).toBe(
    'request r6 at 2024-04-20T05:30:00.000Z brought email george@hillvalley.edu and phone number 717171 together, merging customer 4 into customer 3: contact 3 holds the email, contact 4 the phone number',
  )
})

test('rule 5: a customer of 50,000 rows sharing one phone number is explained in one step', () => {
  const rows = Array.from({ length: 50_000 }, (_, i) =>
    row(i + 1, `e${i}@x.io`, '0', i === 0 ? null : 1),
  )
  expect(kinds(rows, [], 17, 49_999)).toEqual(['17-shared-phone-49999'])
})
