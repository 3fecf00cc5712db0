// Reading a backfill file: CSV quoting and line numbers, NDJSON, the header, and reasons that
// never quote a value.
import { Readable } from 'node:stream'
import { describe, expect, test } from 'vitest'
import { BackfillInputError, parseCreatedAt, readOrders } from '../lib/backfill/input.js'
import { DEFAULT_MATCH_KEYS } from '../lib/guard/match-keys.js'

const read = (text: string, format: 'csv' | 'ndjson' = 'csv', strict = false) =>
  readOrders(Readable.from([text]), { format, strict, matchKeys: DEFAULT_MATCH_KEYS })

describe('createdAt', () => {
  test.each([
    ['2024-01-02', Date.parse('2024-01-02T00:00:00Z')],
    ['2024-01-02T03:04:05Z', Date.parse('2024-01-02T03:04:05Z')],
    ['2024-01-02T03:04:05.123+02:00', Date.parse('2024-01-02T01:04:05.123Z')],
    ['2024-01-02T03:04:05', 'createdAt has a time but no time zone (add Z or an offset)'],
    ['02/01/2024', 'createdAt is not an ISO 8601 date or date-time'],
    ['2024-02-30T00:00:00Z', 'createdAt is not a real date'],
    ['', 'createdAt is missing'],
  ])('%s reads as %s', (text, expected) => {
    expect(parseCreatedAt(text)).toBe(expected)
  })
})

describe('CSV', () => {
  test("columns in any order, quoted fields, a BOM, and identify's normalisation", async () => {
    const { orders, rejectedCount } = await read(
      '\uFEFFphoneNumber,orderId,email,createdAt\n"+1 (415) 555-2671",7,"  Doc@HillValley.EDU ",2024-01-01\n',
    )
    expect(rejectedCount).toBe(0)
    expect(orders).toEqual([
      {
        line: 2,
        at: Date.parse('2024-01-01T00:00:00Z'),
        email: 'doc@hillvalley.edu',
        phoneNumber: '+14155552671',
        emailKey: 'doc@hillvalley.edu',
        phoneKey: '+14155552671',
      },
    ])
  })

  test('a quoted line break keeps the line numbers of later records right', async () => {
    const { orders, rejected } = await read(
      'createdAt,email,phoneNumber,orderId\n2024-01-01,a@x.io,1,"two\nlines"\n2024-01-01,bad,2,x\n',
    )
    expect(orders.map((order) => order.line)).toEqual([3])
    expect(rejected).toEqual([{ line: 4, reason: expect.stringMatching(/^email: /) }])
    expect(rejected[0]?.reason).not.toContain('bad,')
  })

  test('a wrong number of fields is a bad line; an unknown column set refuses the file', async () => {
    const { rejected } = await read('createdAt,email,phoneNumber\n2024-01-01,a@x.io\n')
    expect(rejected).toEqual([{ line: 2, reason: '2 fields where the header has 3' }])
    await expect(read('createdAt,email\n')).rejects.toBeInstanceOf(BackfillInputError)
    await expect(read('createdAt,email,phoneNumber,extra\n')).rejects.toThrow(/unknown column set/)
    await expect(read('')).rejects.toThrow(/empty/)
  })

  test('only the first 20 bad lines are listed, all are counted; --strict stops at the first', async () => {
    const bad = Array.from({ length: 25 }, () => 'never,a@x.io,1').join('\n')
    const result = await read(`createdAt,email,phoneNumber\n${bad}\n`)
    expect(result.rejectedCount).toBe(25)
    expect(result.rejected).toHaveLength(20)
    await expect(read(`createdAt,email,phoneNumber\n${bad}\n`, 'csv', true)).rejects.toThrow(
      /^line 2: /,
    )
  })

  test('broken quoting refuses the file with its line', async () => {
    await expect(read('createdAt,email,phoneNumber\n2024-01-01,"a@x.io,1\n')).rejects.toThrow(
      /unreadable CSV/,
    )
  })
})

describe('NDJSON', () => {
  test('objects, blank lines skipped, inexact numbers and non-objects refused', async () => {
    const { orders, rejected } = await read(
      [
        '{"createdAt":"2024-01-01","email":"a@x.io","phoneNumber":415}',
        '',
        '{"createdAt":"2024-01-01","phoneNumber":12.5}',
        '[1]',
        '{"createdAt":"2024-01-01","phoneNumber":9007199254740993}',
      ].join('\n'),
      'ndjson',
    )
    expect(orders.map((order) => [order.line, order.phoneNumber])).toEqual([[1, '415']])
    expect(rejected.map((line) => line.line)).toEqual([3, 4, 5])
  })
})
