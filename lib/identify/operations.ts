/** `POST /identify` in the API description (lib/http/openapi.ts). */
import * as v from 'valibot'
import type { IdentifyResponse } from '../core/contact.js'
import { describing, ErrorBodySchema, type Operation } from '../http/openapi.js'
import { IdentifyBodySchema } from './request.js'

/** The consolidated customer, as identify and the lookup answer it. */
export const ContactSchema = v.object({
  primaryContactId: v.number(),
  emails: v.pipe(v.array(v.string()), v.description("The primary's email first, then row order")),
  phoneNumbers: v.pipe(
    v.array(v.string()),
    v.description("The primary's phone number first, then row order"),
  ),
  secondaryContactIds: v.array(v.number()),
})

/** The answer of `POST /identify`. */
export const IdentifyResponseSchema = describing<IdentifyResponse>()(
  v.object({ contact: ContactSchema }),
)

const error = (description: string) => ({ description, schema: ErrorBodySchema })

/** The operations of ./handler.ts. */
export const IDENTIFY_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/identify',
    summary:
      'Identify the customer behind an order, linking it to every earlier one it shares an identifier with',
    description:
      'Also served at /identity and /api/identify. At least one of email and phoneNumber is required; blank strings count as absent; other keys are ignored. Retrying is always safe: a repeated request changes nothing and gets the same answer.',
    security: 'identify',
    body: IdentifyBodySchema,
    responses: {
      200: { description: 'The consolidated customer', schema: IdentifyResponseSchema },
      400: error('The body is not JSON, or a field is invalid (`issues` names each)'),
      405: error('Not a POST'),
      413: error('The body is over 16 KiB'),
      415: error('The body is not application/json'),
    },
  },
]
