import * as v from 'valibot'
import { isPlaceholderWord } from '../core/blocklist.js'
import type { Identifiers } from '../core/contact.js'
import { parseEmailAddress } from '../core/email-address.js'
import { type InexactJsonNumber, isInexactJsonNumber } from '../core/exact-json.js'
import type { FieldIssue } from '../http/answer.js'
import { toFieldIssues } from '../http/validation.js'

const EMAIL_MAX_LENGTH = 254
const PHONE_NUMBER_MAX_LENGTH = 32

/**
 * Trims an email; blank means absent. lib/core/email-address.ts then checks it and gives its
 * stored form (NFC, lower-cased, least quoting).
 */
export function trimEmail(value: string | null): string | null {
  const email = value?.trim() ?? ''
  return email === '' ? null : email
}

/**
 * Trims a phone number and drops the separators people type (spaces, `-`, `.`, `(`, `)`), keeping
 * a leading `+`; blank means absent. Numbers are written in decimal.
 */
export function normalizePhoneNumber(value: string | number | null): string | null {
  if (typeof value === 'string' && isPlaceholderWord(value)) return value.trim().toLowerCase()
  const phoneNumber = String(value ?? '').replace(/[\s\-.()]/g, '')
  return phoneNumber === '' ? null : phoneNumber
}

/** An email as identify takes it: normalised, or null when blank or absent. */
export const EmailSchema = v.pipe(
  v.nullish(v.string('must be a string or null'), null),
  v.transform(trimEmail),
  v.nullable(
    v.pipe(
      v.string(),
      // Bounds the parser's work; the parser's own limit is 254 bytes of UTF-8.
      v.maxLength(EMAIL_MAX_LENGTH, `must be at most ${EMAIL_MAX_LENGTH} characters`),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        // Stored and shown like any value, and blocked by a built-in rule (lib/core/blocklist.ts).
        if (isPlaceholderWord(dataset.value)) return dataset.value.toLowerCase()
        const parsed = parseEmailAddress(dataset.value)
        if (parsed.ok) return parsed.email
        addIssue({ message: parsed.reason })
        return NEVER
      }),
    ),
  ),
)

// A JSON number is a phone number only if it is exactly the whole number the client wrote: a
// fraction, a minus sign (-0 included) or anything past 2^53, where doubles skip integers and
// the digits stored may not be the digits sent, is refused. Strings carry any number of digits.
function findPhoneNumberProblem(value: number | InexactJsonNumber): string | null {
  if (isInexactJsonNumber(value)) return PHONE_NUMBER_INEXACT
  if (!Number.isInteger(value)) return 'must be a whole number'
  if (value < 0 || Object.is(value, -0)) return 'must not be negative'
  if (!Number.isSafeInteger(value)) return PHONE_NUMBER_INEXACT
  return null
}

const PHONE_NUMBER_INEXACT = 'cannot be represented exactly as a JSON number; send it as a string'

/** A phone number as identify takes it: normalised, or null when blank or absent. */
export const PhoneNumberSchema = v.pipe(
  v.nullish(
    v.union(
      [v.string(), v.number(), v.custom<InexactJsonNumber>(isInexactJsonNumber)],
      'must be a string, a number or null',
    ),
    null,
  ),
  v.rawCheck<string | number | InexactJsonNumber | null>(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value === null || typeof dataset.value === 'string') return
    const problem = findPhoneNumberProblem(dataset.value)
    if (problem !== null) addIssue({ message: problem })
  }),
  // The check above lets no InexactJsonNumber through: a failed check ends the pipe here.
  v.transform((value) => normalizePhoneNumber(value as string | number | null)),
  v.nullable(
    v.pipe(
      v.string(),
      v.maxLength(PHONE_NUMBER_MAX_LENGTH, `must be at most ${PHONE_NUMBER_MAX_LENGTH} characters`),
      v.check(
        (phoneNumber) => /^\+?\d+$/.test(phoneNumber) || isPlaceholderWord(phoneNumber),
        'must contain only digits, after an optional leading +',
      ),
    ),
  ),
)

/** The fields of the identify body, as the API description documents them. */
export const IdentifyBodySchema = v.object({ email: EmailSchema, phoneNumber: PhoneNumberSchema })

/** The body of `POST /identify`, normalised; keys other than the two identifiers are ignored. */
export const IdentifyRequestSchema = v.pipe(
  // v.object alone would accept an array.
  v.custom<Record<string, unknown>>(
    (body) => typeof body === 'object' && body !== null && !Array.isArray(body),
    'must be a JSON object',
  ),
  IdentifyBodySchema,
  v.check(
    (request) => request.email !== null || request.phoneNumber !== null,
    'at least one of email and phoneNumber is required',
  ),
)

/** Validates and normalises an identify body, returning its identifiers or every problem found. */
export function parseIdentifyRequest(
  body: unknown,
): { ok: true; identifiers: Identifiers } | { ok: false; issues: FieldIssue[] } {
  const result = v.safeParse(IdentifyRequestSchema, body)
  // The schema's output is checked against the core's `Identifiers` here: one shape, one name.
  if (result.success) return { ok: true, identifiers: result.output }
  return { ok: false, issues: toFieldIssues(result.issues) }
}
