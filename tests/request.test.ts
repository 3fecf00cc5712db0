// Validation and normalisation of the identify body (lib/identify/request.ts). Pure: no database.
import { describe, expect, test } from 'vitest'
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
    [
      'an unsafe integer phone number',
      { phoneNumber: 2 ** 60 },
      'phoneNumber',
      'must be a whole number',
    ],
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
