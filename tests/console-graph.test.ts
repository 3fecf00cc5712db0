// The console's graph model (console/graph-model.ts): which edges a customer's contacts get.
import { describe, expect, test } from 'vitest'
import { toGraph, toPage } from '../console/graph-model.js'
import type { Contact } from '../console/types.js'

const contact = (
  id: number,
  email: string | null,
  phoneNumber: string | null,
  extra = {},
): Contact => ({
  id,
  email,
  phoneNumber,
  linkPrecedence: id === 1 ? 'primary' : 'secondary',
  linkedId: id === 1 ? null : 1,
  createdAt: '2024-04-01T00:00:00.000Z',
  ...extra,
})

const edgesOf = (contacts: Contact[], pairs: Parameters<typeof toGraph>[1] = []) =>
  toGraph(contacts, pairs).edges.map(({ kind, source, target }) => `${kind} ${source}-${target}`)

describe('toGraph', () => {
  test('holders of one identifier are joined to its oldest holder: n - 1 edges, not n² / 2', () => {
    const contacts = [1, 2, 3, 4].map((id) => contact(id, `u${id}@x.io`, '555'))
    expect(edgesOf(contacts)).toEqual(['phone 1-2', 'phone 1-3', 'phone 1-4'])
  })

  test('an email and a phone number shared by the same two contacts are two edges', () => {
    expect(edgesOf([contact(1, 'a@x.io', '1'), contact(2, 'a@x.io', '1')])).toEqual([
      'email 1-2',
      'phone 1-2',
    ])
  })

  test("a request pair joins its email's oldest holder to its phone number's, once", () => {
    const contacts = [
      contact(1, 'a@x.io', '1'),
      contact(2, 'b@x.io', '2'),
      contact(3, 'c@x.io', '2'),
    ]
    const pair = { email: 'a@x.io', phoneNumber: '2', at: '2024-04-01T00:00:00.000Z' }
    expect(edgesOf(contacts, [pair, pair])).toEqual(['phone 2-3', 'pair 1-2'])
  })

  test('a pair whose identifiers one contact holds, or the page lacks, draws nothing', () => {
    const contacts = [contact(1, 'a@x.io', '1')]
    const pairs = [
      { email: 'a@x.io', phoneNumber: '1', at: '' },
      { email: 'a@x.io', phoneNumber: '9', at: '' },
    ]
    expect(edgesOf(contacts, pairs)).toEqual([])
  })

  test('a part that nothing on record joins to the primary hangs from its stored link', () => {
    const contacts = [
      contact(1, 'a@x.io', '1'),
      contact(2, 'b@x.io', '2'),
      contact(3, 'b@x.io', '3'),
      contact(4, 'a@x.io', '4'),
    ]
    expect(edgesOf(contacts)).toEqual(['email 2-3', 'email 1-4', 'link 1-2'])
  })

  test('the primary and the contacts holding a blocked value are marked, and so are its edges', () => {
    const graph = toGraph([
      contact(1, 'a@x.io', '1'),
      contact(2, 'b@x.io', '1', { phoneNumberBlocked: true }),
    ])
    expect(graph.nodes.map(({ id, isPrimary, isBlocked }) => [id, isPrimary, isBlocked])).toEqual([
      [1, true, false],
      [2, false, true],
    ])
    expect(graph.edges.map((edge) => edge.isBlocked)).toEqual([true])
  })
})

test('toPage cuts a list into pages and keeps the page asked for within them', () => {
  const items = Array.from({ length: 450 }, (_, index) => index)
  expect(toPage(items, 0)).toMatchObject({ page: 0, pages: 3 })
  expect(toPage(items, 2).items).toEqual(items.slice(400))
  expect(toPage(items, 9).page).toBe(2)
  expect(toPage([], 0)).toEqual({ items: [], page: 0, pages: 1 })
})
