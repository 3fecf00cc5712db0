/** The query of `GET /api/customers`: exactly one of an email, a phone number or a contact id. */
import * as v from 'valibot'
import { EmailSchema, PhoneNumberSchema } from '../identify/request.js'

/** A contact id: `Contact.id` is a positive 32-bit integer. */
export const ContactIdSchema = v.pipe(
  v.string(),
  v.regex(/^[1-9]\d{0,9}$/, 'must be a contact id, a whole number from 1'),
  v.transform(Number),
  v.maxValue(2_147_483_647, 'must be a contact id, at most 2147483647'),
)

/** How a customer is found: by one of its identifiers (normalised as identify does) or ids. */
export const CustomerQuerySchema = v.pipe(
  v.strictObject(
    {
      email: v.optional(EmailSchema),
      phoneNumber: v.optional(PhoneNumberSchema),
      contactId: v.optional(ContactIdSchema),
    },
    'is not a query parameter of this endpoint',
  ),
  v.check(
    (query) =>
      [query.email, query.phoneNumber, query.contactId].filter((value) => value != null).length ===
      1,
    'give exactly one of email, phoneNumber and contactId',
  ),
)

/** A validated customer query. */
export type CustomerQuery = v.InferOutput<typeof CustomerQuerySchema>
