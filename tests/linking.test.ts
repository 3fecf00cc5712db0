// The linking rules of lib/core/linking.ts, one table per rule. Pure: no database.
import { describe, expect, test } from 'vitest'
import type { ContactRow, Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import {
  findLeaders,
  hasWrites,
  planLinks,
  toClusterVersion,
  toIdentifyResponse,
} from '../lib/core/linking.js'
import { at, makeContact } from './support/fixtures.js'

const NOW = at(1_000)
const request = (email: string | null, phoneNumber: string | null): Identifiers => ({
  email,
  phoneNumber,
})

describe('rule 2: an unknown customer', () => {
  test.each([
    ['email and phone', request('doc@hill.edu', '123')],
    ['an email alone', request('doc@hill.edu', null)],
    ['a phone alone', request(null, '123')],
  ])('is inserted as a primary row with %s', (_, identifiers) => {
    const plan = planLinks([], keyedAsStored(identifiers), NOW)
    expect(plan.insert).toEqual({
      ...keyedAsStored(identifiers),
      linkedId: null,
      linkPrecedence: 'primary',
      createdAt: NOW,
    })
    expect(plan.primaryId).toBeNull()
    expect(plan.relinkIds).toEqual([])
    expect(toIdentifyResponse(plan, 7)).toEqual({
      contact: {
        primaryContactId: 7,
        emails: identifiers.email ? [identifiers.email] : [],
        phoneNumbers: identifiers.phoneNumber ? [identifiers.phoneNumber] : [],
        secondaryContactIds: [],
      },
    })
  })
})

describe('rule 3: several customers merge into the one with the oldest primary', () => {
  const older = makeContact({ id: 5, email: 'a@x.io', phoneNumber: '1', createdAt: at(1) })
  const olderChild = makeContact({
    id: 6,
    email: 'b@x.io',
    phoneNumber: '1',
    linkedId: 5,
    createdAt: at(2),
  })
  const newer = makeContact({ id: 2, email: 'c@x.io', phoneNumber: '2', createdAt: at(3) })
  const newerChild = makeContact({
    id: 3,
    email: 'c@x.io',
    phoneNumber: '3',
    linkedId: 2,
    createdAt: at(4),
  })
  const twin = makeContact({ id: 4, email: 'd@x.io', phoneNumber: '4', createdAt: at(1) })

  test.each<[string, ContactRow[], Identifiers, number, number[]]>([
    ['older by createdAt, whatever the ids', [older, newer], request('a@x.io', '2'), 5, [2]],
    [
      'the newer primary and all its secondaries re-pointed',
      [older, olderChild, newer, newerChild],
      request('b@x.io', '3'),
      5,
      [2, 3],
    ],
    ['ties on createdAt broken by the lower id', [older, twin], request('a@x.io', '4'), 4, [5]],
  ])('keeps the %s', (_, cluster, identifiers, primaryId, relinkIds) => {
    const plan = planLinks(cluster, keyedAsStored(identifiers), NOW)
    expect(plan.primaryId).toBe(primaryId)
    expect([...plan.relinkIds].sort((a, b) => a - b)).toEqual(relinkIds)
    expect(plan.insert).toBeNull()
    expect(plan.now).toBe(NOW)
  })

  test('writes only rows whose link changes', () => {
    const plan = planLinks([older, olderChild, newer], keyedAsStored(request('a@x.io', '2')), NOW)
    expect(plan.relinkIds).toEqual([2])
    expect(plan.promotesPrimary).toBe(false)
  })
})

describe('rule 4: new information for a known customer', () => {
  const primary = makeContact({ id: 1, email: 'lorraine@hill.edu', phoneNumber: '123456' })
  const secondary = makeContact({
    id: 23,
    email: 'mcfly@hill.edu',
    phoneNumber: '123456',
    linkedId: 1,
  })

  test.each<[string, Identifiers, boolean]>([
    ['a new email with a known phone', request('new@hill.edu', '123456'), true],
    ['a new phone with a known email', request('mcfly@hill.edu', '999'), true],
    ['a known email alone', request('mcfly@hill.edu', null), false],
    ['a known phone alone', request(null, '123456'), false],
    ["the primary's own pair", request('lorraine@hill.edu', '123456'), false],
    [
      'an email and a phone both known, from different rows',
      request('mcfly@hill.edu', '123456'),
      false,
    ],
  ])('%s: inserts a secondary = %s', (_, identifiers, inserts) => {
    const plan = planLinks([primary, secondary], keyedAsStored(identifiers), NOW)
    expect(plan.insert).toEqual(
      inserts
        ? {
            ...keyedAsStored(identifiers),
            linkedId: 1,
            linkPrecedence: 'secondary',
            createdAt: NOW,
          }
        : null,
    )
    expect(hasWrites(plan)).toBe(inserts)
  })

  test('a new row is never older than the customer it joins, even if this clock is behind', () => {
    const plan = planLinks([primary], keyedAsStored(request('late@hill.edu', null)), at(0.5))
    expect(plan.insert?.createdAt).toEqual(primary.createdAt)
  })
})

describe('rule 5: chains and cycles left by older services are flattened', () => {
  test.each<[string, ContactRow[], number, number[], boolean]>([
    [
      'a secondary pointing at a secondary',
      [
        makeContact({ id: 1, email: 'a@x.io' }),
        makeContact({ id: 2, email: 'b@x.io', linkedId: 1 }),
        makeContact({ id: 3, email: 'c@x.io', linkedId: 2 }),
      ],
      1,
      [3],
      false,
    ],
    [
      'a secondary whose primary was deleted (its parent is not in the cluster)',
      [
        makeContact({ id: 4, email: 'a@x.io', linkedId: 99 }),
        makeContact({ id: 5, email: 'b@x.io', linkedId: 4 }),
      ],
      4,
      [],
      true,
    ],
    [
      'a cycle of secondaries, led by its oldest row',
      [
        makeContact({ id: 7, email: 'a@x.io', linkedId: 8 }),
        makeContact({ id: 8, email: 'b@x.io', linkedId: 7 }),
      ],
      7,
      [],
      true,
    ],
    [
      'a tree and an older cycle in one cluster: the cycle leads, whichever row the request names',
      [
        makeContact({ id: 1, email: 'a@x.io', createdAt: at(10) }),
        makeContact({ id: 2, phoneNumber: '222', linkedId: 3, createdAt: at(1) }),
        makeContact({ id: 3, phoneNumber: '333', linkedId: 2, createdAt: at(2) }),
      ],
      2,
      [1],
      true,
    ],
  ])('%s', (_, cluster, primaryId, relinkIds, promotes) => {
    const plan = planLinks(cluster, keyedAsStored(request('a@x.io', null)), NOW)
    expect(plan.primaryId).toBe(primaryId)
    expect(plan.relinkIds).toEqual(relinkIds)
    expect(plan.promotesPrimary).toBe(promotes)
    for (const row of plan.rows) {
      expect(row.linkedId).toBe(row.id === primaryId ? null : primaryId)
    }
  })
})

describe('rule 6: the answer', () => {
  test("lists the primary's identifiers first, then the rest in row order, without duplicates", () => {
    const cluster = [
      makeContact({ id: 9, email: 'z@x.io', phoneNumber: '9', linkedId: 3, createdAt: at(5) }),
      makeContact({ id: 3, email: null, phoneNumber: '3', createdAt: at(1) }),
      makeContact({ id: 4, email: 'a@x.io', phoneNumber: '3', linkedId: 3, createdAt: at(2) }),
      makeContact({ id: 2, email: 'z@x.io', phoneNumber: null, linkedId: 3, createdAt: at(2) }),
    ]
    const plan = planLinks(cluster, keyedAsStored(request('z@x.io', '9')), NOW)
    expect(toIdentifyResponse(plan, null)).toEqual({
      contact: {
        primaryContactId: 3,
        emails: ['z@x.io', 'a@x.io'],
        phoneNumbers: ['3', '9'],
        secondaryContactIds: [2, 4, 9],
      },
    })
  })

  test('places the inserted row by its age and id', () => {
    const plan = planLinks(
      [makeContact({ id: 1, email: 'a@x.io' })],
      keyedAsStored(request('a@x.io', '5')),
      NOW,
    )
    expect(toIdentifyResponse(plan, 2).contact).toEqual({
      primaryContactId: 1,
      emails: ['a@x.io'],
      phoneNumbers: ['5'],
      secondaryContactIds: [2],
    })
  })

  test('reproduces the worked example of the task statement', () => {
    const cluster = [
      makeContact({
        id: 1,
        email: 'lorraine@hillvalley.edu',
        phoneNumber: '123456',
        createdAt: new Date('2024-04-01T00:00:00.374Z'),
      }),
      makeContact({
        id: 23,
        email: 'mcfly@hillvalley.edu',
        phoneNumber: '123456',
        linkedId: 1,
        createdAt: new Date('2024-04-20T05:30:00.110Z'),
      }),
    ]
    for (const identifiers of [
      request('mcfly@hillvalley.edu', '123456'),
      request(null, '123456'),
      request('lorraine@hillvalley.edu', null),
      request('mcfly@hillvalley.edu', null),
    ]) {
      const plan = planLinks(cluster, keyedAsStored(identifiers), NOW)
      expect(hasWrites(plan)).toBe(false)
      expect(toIdentifyResponse(plan, null)).toEqual({
        contact: {
          primaryContactId: 1,
          emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
          phoneNumbers: ['123456'],
          secondaryContactIds: [23],
        },
      })
    }
  })
})

describe('the cluster version the writer re-checks under lock', () => {
  test.each<[string, ContactRow[], string]>([
    ['is empty for no rows', [], ''],
    [
      'lists id:linkedId by id, whatever the row order',
      [
        makeContact({ id: 10, linkedId: 2, email: 'a@x.io' }),
        makeContact({ id: 2, email: 'b@x.io' }),
      ],
      '2:,10:2',
    ],
  ])('%s', (_, rows, version) => {
    expect(toClusterVersion(rows)).toBe(version)
  })
})

describe('rule 3: leaders, which the writer locks', () => {
  const tree = [
    makeContact({ id: 1, email: 't@x.io', createdAt: at(10) }),
    makeContact({ id: 4, email: 'u@x.io', linkedId: 1, createdAt: at(11) }),
  ]
  const cycle = [
    makeContact({ id: 2, phoneNumber: '222', linkedId: 3, createdAt: at(1) }),
    makeContact({ id: 3, phoneNumber: '333', linkedId: 2, createdAt: at(2) }),
  ]
  test.each<[string, ContactRow[], number[]]>([
    ['one per tree: its root', tree, [1]],
    ['one per cycle: its oldest row, the same from any of its rows', cycle, [2]],
    ['a cluster of a tree and a cycle has both, oldest first', [...tree, ...cycle], [2, 1]],
    [
      'an orphan leads its own rows',
      [
        makeContact({ id: 5, email: 'o@x.io', linkedId: 99 }),
        makeContact({ id: 6, email: 'p@x.io', linkedId: 5 }),
      ],
      [5],
    ],
  ])('%s', (_, rows, leaderIds) => {
    expect(findLeaders(rows).map((row) => row.id)).toEqual(leaderIds)
    expect(planLinks(rows, keyedAsStored(request('t@x.io', null)), NOW).rootIds).toEqual(leaderIds)
  })
})
