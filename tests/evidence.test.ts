// What holds customers together from evidence alone (lib/core/evidence.ts). Pure: no database.
import { describe, expect, test } from 'vitest'
import type { Identifiers } from '../lib/core/contact.js'
import { createDisjointSets } from '../lib/core/disjoint-sets.js'
import { connectByEvidence, type EvidenceRow, findUnexplained } from '../lib/core/evidence.js'

const row = (id: number, customerId: number, email: string | null, phoneNumber: string | null) => ({
  id,
  customerId,
  email,
  phoneNumber,
})
const pair = (email: string, phoneNumber: string): Identifiers => ({ email, phoneNumber })

describe('connectByEvidence', () => {
  test.each<[string, EvidenceRow[], Identifiers[], number[][]]>([
    [
      'rule 1: rows sharing an email are joined',
      [row(1, 1, 'a', null), row(2, 1, 'a', '2')],
      [],
      [[1, 2]],
    ],
    [
      'rule 1: rows sharing a phone number are joined',
      [row(1, 1, 'a', '1'), row(2, 1, 'b', '1')],
      [],
      [[1, 2]],
    ],
    [
      'rule 1: rows sharing nothing stay apart',
      [row(1, 1, 'a', '1'), row(2, 1, 'b', '2')],
      [],
      [[1], [2]],
    ],
    [
      "rule 2: a request pair joins the email's rows to the phone's rows",
      [row(3, 3, 'george', '919191'), row(4, 3, 'biff', '717171')],
      [pair('george', '717171')],
      [[3, 4]],
    ],
    [
      'rule 2: joins are transitive through identifiers and pairs',
      [row(1, 1, 'a', null), row(2, 1, null, '2'), row(3, 1, 'c', '2'), row(4, 1, 'd', '4')],
      [pair('a', '2'), pair('c', '4')],
      [[1, 2, 3, 4]],
    ],
  ])('%s', (_, rows, pairs, expected) => {
    expect(connectByEvidence(rows, pairs)).toEqual(expected)
  })

  test('a customer of 100,000 rows sharing one phone is one set', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => row(i + 1, 1, `e${i}`, '0'))
    expect(connectByEvidence(rows, []).map((group) => group.length)).toEqual([100_000])
  })
})

describe('findUnexplained (rule 3)', () => {
  test('a customer its evidence accounts for has no finding', () => {
    expect(
      findUnexplained(
        [row(3, 3, 'george', '919191'), row(4, 3, 'biff', '717171')],
        [pair('george', '717171')],
      ),
    ).toEqual([])
  })

  test('rows kept only by a stored link are reported with their groups', () => {
    expect(
      findUnexplained([row(3, 3, 'george', '919191'), row(4, 3, 'biff', '717171')], []),
    ).toEqual([{ kind: 'unexplained-link', customerId: 3, groups: [[3], [4]] }])
  })

  test('evidence joining rows of two customers is reported', () => {
    expect(findUnexplained([row(1, 1, 'a', '1'), row(2, 2, 'b', '1')], [])).toContainEqual({
      kind: 'evidence-joins-customers',
      customerIds: [1, 2],
    })
  })
})

test('disjoint sets keep every key, joined or not', () => {
  const sets = createDisjointSets<number>()
  sets.union(1, 2)
  sets.union(3, 4)
  sets.union(2, 4)
  sets.find(5)
  expect(sets.sets().map((set) => set.sort())).toEqual([[1, 2, 3, 4], [5]])
})
