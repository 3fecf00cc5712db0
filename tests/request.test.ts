// Validation and normalisation of the identify body (lib/identify/request.ts). Pure: no database.
import { describe, expect, test } from 'vitest'
import { readJsonBody } from '../lib/http/body.js'
import { parseIdentifyRequest } from '../lib/identify/request.js'

describe('accepted bodies are normalised once', () => {
  test.each<[string, unknown, { email: string | null; phoneNumber: string | null }]>([
    [
      'email trimmed and lower-cased',
      { email: '  Doc@Hill.EDU ' },
      { email: 'doc@hill.edu', phoneNumber: null },
    ],
    ['phone as a number', { phoneNumber: 123456 }, { email: null, phoneNumber: '123456' }],
    [
      'phone separators dropped, leading + kept',
      { phoneNumber: ' +1 (555) 010-99.7 ' },
      { email: null, phoneNumber: '+1555010997' },
    ],
    [
      'null identifiers as absent',
      { email: null, phoneNumber: '12' },
      { email: null, phoneNumber: '12' },
    ],
    [
      'blank identifiers as absent',
      { email: '   ', phoneNumber: '12' },
      { email: null, phoneNumber: '12' },
    ],
    [
      'other keys ignored',
      { email: 'a@b.io', orderId: 7, nested: { x: 1 } },
      { email: 'a@b.io', phoneNumber: null },
    ],
    ['zero as a phone number', { phoneNumber: 0 }, { email: null, phoneNumber: '0' }],
  ])('%s', (_, body, expected) => {
    expect(parseIdentifyRequest(body)).toEqual({ ok: true, identifiers: expected })
  })
})

const CANNOT_BE_EXACT = 'cannot be represented exactly as a JSON number; send it as a string'

describe('rejected bodies name the field at fault', () => {
  test.each<[string, unknown, string, string]>([
    ['not an object', 'hello', '', 'must be a JSON object'],
    ['an array', [{ email: 'a@b.io' }], '', 'must be a JSON object'],
    ['null', null, '', 'must be a JSON object'],
    ['neither identifier', {}, '', 'at least one of email and phoneNumber is required'],
    [
      'only blank identifiers',
      { email: '', phoneNumber: ' ' },
      '',
      'at least one of email and phoneNumber is required',
    ],
    ['an email that is not one', { email: 'doc at hill' }, 'email', 'must be an email address'],
    [
      'an email over 254 characters',
      { email: `${'a'.repeat(250)}@b.io` },
      'email',
      'must be at most 254 characters',
    ],
    ['an email of another type', { email: 42 }, 'email', 'must be a string or null'],
    [
      'a phone with letters',
      { phoneNumber: '555-CALL' },
      'phoneNumber',
      'must contain only digits, after an optional leading +',
    ],
    [
      'a phone with a + inside',
      { phoneNumber: '12+34' },
      'phoneNumber',
      'must contain only digits, after an optional leading +',
    ],
    [
      'a phone over 32 characters',
      { phoneNumber: '1'.repeat(33) },
      'phoneNumber',
      'must be at most 32 characters',
    ],
    ['a negative phone number', { phoneNumber: -5 }, 'phoneNumber', 'must not be negative'],
    ['a fractional phone number', { phoneNumber: 12.5 }, 'phoneNumber', 'must be a whole number'],
    ['an unsafe integer phone number', { phoneNumber: 2 ** 60 }, 'phoneNumber', CANNOT_BE_EXACT],
    ['negative zero as a phone number', { phoneNumber: -0 }, 'phoneNumber', 'must not be negative'],
    [
      'a phone of another type',
      { phoneNumber: true },
      'phoneNumber',
      'must be a string, a number or null',
    ],
  ])('%s', (_, body, path, message) => {
    const result = parseIdentifyRequest(body)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues).toContainEqual({ path, message })
  })
})

// Item 6 of the hostile review: addresses RFC 5321/5322 (and RFC 6531's UTF-8) allow were refused,
// while one non-ASCII letter (the Kelvin sign) slipped through lower-cased. One rule for every
// address: Unicode NFC, then lower-case. lib/core/email-address.ts holds the whole table.
describe('email addresses are read as RFC 5321 mailboxes, under one normalisation', () => {
  test.each<[string, string, string]>([
    ['an apostrophe in the local part is kept', "O'Brien@example.com", "o'brien@example.com"],
    ['a domain in its ASCII (punycode) form is kept', 'u@xn--bcher-kva.de', 'u@xn--bcher-kva.de'],
    ['a punycode top-level domain is kept', 'u@example.xn--p1ai', 'u@example.xn--p1ai'],
    [
      'a quoted local part with a space is kept',
      '"John Doe"@example.com',
      '"john doe"@example.com',
    ],
    [
      'a quoted local part that needs no quotes loses them',
      '"john"@example.com',
      'john@example.com',
    ],
    [
      'the Kelvin sign is a K like any other: NFC, then lower-case',
      '\u212Aelvin@x.com',
      'kelvin@x.com',
    ],
    [
      'an internationalised address is lower-cased like any other',
      'JOSÉ@EXÄMPLE.DE',
      'josé@exämple.de',
    ],
    ['a decomposed accent is composed (NFC)', 'jose\u0301@exa\u0308mple.de', 'josé@exämple.de'],
  ])('%s', (_, email, expected) => {
    expect(parseIdentifyRequest({ email })).toEqual({
      ok: true,
      identifiers: { email: expected, phoneNumber: null },
    })
  })

  test.each<[string, string, string]>([
    [
      'no dot after @',
      'a@localhost',
      'the part after @ is not a domain name: it has no dot, as in example.com',
    ],
    [
      'an underscore in the domain',
      'a@ex_ample.com',
      'the part after @ is not a domain name: it contains "_"',
    ],
    [
      'two dots in a row before @',
      'a..b@x.com',
      'the part before @ has a dot at its start or end, or two in a row (allowed only inside quotes)',
    ],
    [
      'a local part over 64 bytes',
      `${'a'.repeat(65)}@x.com`,
      'the part before @ is longer than 64 bytes',
    ],
  ])('refuses %s, saying why', (_, email, message) => {
    expect(parseIdentifyRequest({ email })).toEqual({
      ok: false,
      issues: [{ path: 'email', message }],
    })
  })
})

// Item 8: the body's JSON text, as the endpoint reads it (lib/http/body.ts), then the schema.
// JSON.parse rounds a number to the nearest double, so 1234567890123456.0000001 arrives as
// 1234567890123456: a phone number must be refused on what the client wrote, not on the rounded value.
describe('a phone number sent as a JSON number is taken only if it is exactly a whole number', () => {
  const parseText = async (text: string) => {
    const read = await readJsonBody(
      new Request('http://store.test/identify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      }),
    )
    if (!read.ok) throw new Error(`body refused: ${read.error.message}`)
    return parseIdentifyRequest(read.body)
  }

  test.each<[string, string, string]>([
    ['a plain whole number', '{"phoneNumber": 123456}', '123456'],
    ['the largest safe integer', '{"phoneNumber": 9007199254740991}', '9007199254740991'],
    ['a whole number written with a zero fraction', '{"phoneNumber": 123456.000}', '123456'],
    ['a whole number written with an exponent', '{"phoneNumber": 1.5e3}', '1500'],
  ])('accepts %s', async (_, text, phoneNumber) => {
    expect(await parseText(text)).toEqual({
      ok: true,
      identifiers: { email: null, phoneNumber },
    })
  })

  test.each<[string, string, string]>([
    [
      'a fraction JSON.parse rounds to a whole number',
      '{"phoneNumber": 1234567890123456.0000001}',
      CANNOT_BE_EXACT,
    ],
    [
      'a whole number past 2^53 that a double rounds',
      '{"phoneNumber": 9007199254740993}',
      CANNOT_BE_EXACT,
    ],
    [
      'a whole number past 2^53 that a double holds',
      '{"phoneNumber": 1152921504606846976}',
      CANNOT_BE_EXACT,
    ],
    ['a number past the double range', '{"phoneNumber": 1e400}', CANNOT_BE_EXACT],
    ['a tiny fraction JSON.parse rounds to zero', '{"phoneNumber": 1e-400}', CANNOT_BE_EXACT],
    [
      'the last of repeated keys, as JSON.parse keeps',
      '{"phoneNumber": 1, "phoneNumber": 9007199254740993}',
      CANNOT_BE_EXACT,
    ],
    ['negative zero', '{"phoneNumber": -0}', 'must not be negative'],
    ['a negative zero written with a fraction', '{"phoneNumber": -0.0}', 'must not be negative'],
    ['a fraction', '{"phoneNumber": 12.5}', 'must be a whole number'],
  ])('refuses %s', async (_, text, message) => {
    expect(await parseText(text)).toEqual({
      ok: false,
      issues: [{ path: 'phoneNumber', message }],
    })
  })

  test('an exactly written number elsewhere in the body changes nothing', async () => {
    expect(
      await parseText('{"phoneNumber": "1", "orderId": 9007199254740993, "items": [0.1, 1e400]}'),
    ).toEqual({ ok: true, identifiers: { email: null, phoneNumber: '1' } })
  })
})
