// The events feed's cursor (lib/core/event-cursor.ts). Pure: no database.
import { expect, test } from 'vitest'
import { FEED_START, parseCursor, toCursorText } from '../lib/core/event-cursor.js'

test.each([
  ['the start', toCursorText(FEED_START), FEED_START],
  ['a position', '812.31', { txid: '812', id: '31' }],
  [
    'the largest transaction id',
    '18446744073709551615.1',
    { txid: '18446744073709551615', id: '1' },
  ],
])('reads %s back as written', (_, text, cursor) => {
  expect(parseCursor(text)).toEqual(cursor)
  expect(toCursorText(cursor)).toBe(text)
})

test.each([
  ['empty', ''],
  ['one number', '812'],
  ['a negative id', '812.-1'],
  ['words', 'next.page'],
  ['a transaction id past 64 bits', '18446744073709551616.1'],
  ['an id past a bigint', '1.9223372036854775808'],
])('refuses %s', (_, text) => {
  expect(parseCursor(text)).toBeNull()
})
