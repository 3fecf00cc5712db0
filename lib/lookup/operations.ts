/** `GET /api/customers` in the API description (lib/http/openapi.ts). */
import * as v from 'valibot'
import type { CustomerView } from '../core/customer.js'
import { describing, ErrorBodySchema, type Operation } from '../http/openapi.js'
import { ContactSchema } from '../identify/operations.js'
import { ContactIdSchema, CustomerQuerySchema } from './query.js'

/** A customer with its rows, as the admin API answers it. */
export const CustomerViewSchema = describing<CustomerView>()(
  v.object({
    contact: ContactSchema,
    contacts: v.array(
      v.object({
        id: v.number(),
        email: v.nullable(v.string()),
        phoneNumber: v.nullable(v.string()),
        linkPrecedence: v.picklist(['primary', 'secondary']),
        linkedId: v.nullable(v.number()),
        createdAt: v.pipe(v.string(), v.isoTimestamp()),
        emailBlocked: v.pipe(v.boolean(), v.description('Its email never links (the guard)')),
        phoneNumberBlocked: v.pipe(v.boolean(), v.description('Its phone never links')),
      }),
    ),
    pairs: v.pipe(
      v.array(
        v.object({
          email: v.string(),
          phoneNumber: v.string(),
          at: v.pipe(v.string(), v.isoTimestamp()),
        }),
      ),
      v.description(
        'Email and phone pairs requests brought together when they merged customers: evidence beside the shared values',
      ),
    ),
  }),
)

const error = (description: string) => ({ description, schema: ErrorBodySchema })
const responses = {
  200: {
    description: "The customer: identify's answer, and its rows oldest first",
    schema: CustomerViewSchema,
  },
  400: error('A malformed identifier or id, or not exactly one of them'),
  404: error('No live contact matches'),
  409: error(
    'The value is blocked (`blocked_identifier`): it joins no one, so it names no one customer',
  ),
}

/** The operations of ./handler.ts. */
export const LOOKUP_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/customers',
    summary: 'Look a customer up by email, phone number or contact id, without writing',
    description:
      'Give exactly one of the parameters. Identifiers are normalised as identify normalises them.',
    security: 'admin',
    query: CustomerQuerySchema.pipe[0],
    responses,
  },
  {
    method: 'get',
    path: '/api/customers/{contactId}',
    summary: "Look a customer up by any of its contact ids, an absorbed primary's included",
    security: 'admin',
    query: v.object({ contactId: ContactIdSchema }),
    pathParams: ['contactId'],
    responses,
  },
]
