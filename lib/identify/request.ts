import * as v from 'valibot'
import type { Identifiers } from '../core/contact.js'
import type { FieldIssue } from '../http/answer.js'
import { toFieldIssues } from '../http/validation.js'

const EMAIL_MAX_LENGTH = 254
const PHONE_NUMBER_MAX_LENGTH = 32

/** Trims and lower-cases an email; blank means absent. */
export function normalizeEmail(value: string | null): string | null {
  const email = value?.trim().toLowerCase() ?? ''
  return email === '' ? null : email
}

/**
 * Trims a phone number and drops the separators people type (spaces, `-`, `.`, `(`, `)`), keeping
 * a leading `+`; blank means absent. Numbers are written in decimal.
 */
export function normalizePhoneNumber(value: string | number | null): string | null {
  const phoneNumber = String(value ?? '').replace(/[\s\-.()]/g, '')
  return phoneNumber === '' ? null : phoneNumber
}

/** An email as identify takes it: normalised, or null when blank or absent. */
export const EmailSchema = v.pipe(
  v.nullish(v.string('must be a string or null'), null),
  v.transform(normalizeEmail),
  v.nullable(
    v.pipe(
      v.string(),
      v.maxLength(EMAIL_MAX_LENGTH, `must be at most ${EMAIL_MAX_LENGTH} characters`),
      v.email('must be an email address'),
    ),
  ),
)

/** A phone number as identify takes it: normalised, or null when blank or absent. */
export const PhoneNumberSchema = v.pipe(
  v.nullish(
    v.union(
      [
        v.string(),
        v.pipe(
          v.number(),
          v.safeInteger('must be a whole number'),
          v.minValue(0, 'must not be negative'),
        ),
      ],
      'must be a string, a number or null',
    ),
    null,
  ),
  v.transform(normalizePhoneNumber),
  v.nullable(
    v.pipe(
      v.string(),
      v.maxLength(PHONE_NUMBER_MAX_LENGTH, `must be at most ${PHONE_NUMBER_MAX_LENGTH} characters`),
      v.regex(/^\+?\d+$/, 'must contain only digits, after an optional leading +'),
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
