/** What the guard's endpoints take: one value by kind, and whether to only say what would happen. */
import * as v from 'valibot'
import type { IdentifierKind } from '../core/contact.js'
import { EmailSchema, PhoneNumberSchema } from '../identify/request.js'
import { type MatchKeyConfig, toMatchKeys } from './match-keys.js'
import type { ValueRef } from './shell.js'

/** A body naming one value: `{"email": …}` or `{"phoneNumber": …}`, normalised as identify does. */
export const ValueBodySchema = v.pipe(
  v.custom<Record<string, unknown>>(
    (body) => typeof body === 'object' && body !== null && !Array.isArray(body),
    'must be a JSON object',
  ),
  v.strictObject(
    { email: v.optional(EmailSchema), phoneNumber: v.optional(PhoneNumberSchema) },
    'is not a field of this body: give email or phoneNumber',
  ),
  v.check(
    (body) => (body.email != null) !== (body.phoneNumber != null),
    'give exactly one of email and phoneNumber',
  ),
)

/** `?dryRun=true`: answer what would happen, and change nothing. */
export const DryRunQuerySchema = v.strictObject(
  {
    dryRun: v.optional(
      v.pipe(
        v.picklist(['true', 'false'], 'must be true or false'),
        v.transform((value) => value === 'true'),
      ),
      'false',
    ),
  },
  'is not a query parameter of this endpoint',
)

/** Returns the value a valid body names, with its match key under `config`. */
export function toValueRef(
  body: v.InferOutput<typeof ValueBodySchema>,
  config: MatchKeyConfig,
): ValueRef {
  const email = body.email ?? null
  const phoneNumber = body.phoneNumber ?? null
  const { emailKey, phoneKey } = toMatchKeys({ email, phoneNumber }, config)
  const kind: IdentifierKind = email === null ? 'phoneNumber' : 'email'
  return {
    kind,
    key: (kind === 'email' ? emailKey : phoneKey) ?? '',
    value: (kind === 'email' ? email : phoneNumber) ?? '',
  }
}
