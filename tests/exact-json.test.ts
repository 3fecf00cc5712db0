// Reading JSON text without silently rounding numbers (lib/core/exact-json.ts). Pure.
import { describe, expect, test } from 'vitest'
import { isInexactJsonNumber, parseExactJson } from '../lib/core/exact-json.js'

// The parsed value with every InexactJsonNumber shown as `inexact <text>`, for comparison.
function show(value: unknown): unknown {
  if (isInexactJsonNumber(value)) return `inexact ${value.source}`
  if (Array.isArray(value)) return value.map(show)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, show(item)]))
  }
  return value
}

describe('numbers a double holds exactly are parsed as JSON.parse parses them', () => {
  test.each<[string, string]>([
    ['a safe integer', '{"n": 9007199254740991}'],
    ['a decimal fraction that prints back as written', '{"n": 0.1}'],
    ['a zero fraction', '{"n": 123.000}'],
    ['an exponent', '{"n": 1.5e3, "m": 25E-1}'],
    ['a large power of two a double holds exactly', '{"n": 1152921504606846976}'],
    [
      'digits inside strings, escaped quotes included',
      '{"s": "1234567890123456.0000001 \\" 9007199254740993"}',
    ],
    ['keys that look like numbers', '{"9007199254740993": 1, "0": [2, 3]}'],
    ['literals and nesting', '[true, false, null, {"a": [[]], "b": {}}, -1]'],
  ])('%s', (_, text) => {
    expect(parseExactJson(text)).toEqual(JSON.parse(text))
  })

  test('negative zero stays negative zero, for the schema to judge', () => {
    expect(Object.is((parseExactJson('{"n": -0.0}') as { n: number }).n, -0)).toBe(true)
  })
})

describe('a number JSON.parse would change is kept as the text the client wrote', () => {
  test.each<[string, string, unknown]>([
    [
      'a fraction rounded away',
      '{"n": 1234567890123456.0000001}',
      { n: 'inexact 1234567890123456.0000001' },
    ],
    [
      'an integer past 2^53 rounded to its neighbour',
      '{"n": 9007199254740993}',
      { n: 'inexact 9007199254740993' },
    ],
    [
      'a number past the double range',
      '{"n": 1e400, "m": -1e400}',
      { n: 'inexact 1e400', m: 'inexact -1e400' },
    ],
    ['a nonzero number rounded to zero', '{"n": 1e-400}', { n: 'inexact 1e-400' }],
    ['the whole text, when it is one number', '9007199254740993', 'inexact 9007199254740993'],
    [
      'numbers deep in arrays and objects',
      '{"a": [1, {"b": [9007199254740993]}], "c": 2}',
      { a: [1, { b: ['inexact 9007199254740993'] }], c: 2 },
    ],
    [
      'the last of repeated keys',
      '{"n": 1, "n": 9007199254740993}',
      { n: 'inexact 9007199254740993' },
    ],
    [
      'not an earlier repeated key that the last replaced',
      '{"n": 9007199254740993, "n": 1}',
      { n: 1 },
    ],
    [
      'not a number inside an earlier repeated key',
      '{"a": [9007199254740993], "a": {"0": 5}}',
      { a: { 0: 5 } },
    ],
    [
      'a key that needs escaping',
      '{"a\\"b": 9007199254740993}',
      { 'a"b': 'inexact 9007199254740993' },
    ],
  ])('%s', (_, text, expected) => {
    expect(show(parseExactJson(text))).toEqual(expected)
  })

  test('a "__proto__" key stays an own property, as JSON.parse makes it', () => {
    const value = parseExactJson('{"__proto__": 9007199254740993}') as object
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(isInexactJsonNumber(Object.getOwnPropertyDescriptor(value, '__proto__')?.value)).toBe(
      true,
    )
  })

  test('text that is not JSON throws the SyntaxError JSON.parse throws', () => {
    expect(() => parseExactJson('{"n": 01}')).toThrow(SyntaxError)
  })
})
