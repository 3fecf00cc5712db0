/**
 * `GET /api/customers?email=…|phoneNumber=…|contactId=…` and `GET /api/customers/{contactId}`:
 * a customer as identify would answer for it, with its rows, read without writing. Admin only.
 */
import { toCustomerView } from '../core/customer.js'
import { toJsonResponse } from '../http/answer.js'
import type { AuthMode } from '../http/auth.js'
import { createEndpoint, type Handler, toRejection } from '../http/endpoint.js'
import { parseInput, readQuery } from '../http/validation.js'
import type { Logger } from '../platform/log.js'
import { CustomerQuerySchema } from './query.js'
import type { CustomerStore } from './store.js'

/** Returns the customers handler. */
export function createCustomersHandler(deps: {
  store: () => Promise<CustomerStore>
  auth: AuthMode
  logger: Logger
}): Handler {
  return createEndpoint({
    name: 'customers',
    methods: ['GET'],
    auth: deps.auth,
    logger: deps.logger,
    async handle(request) {
      const query = parseInput(CustomerQuerySchema, readQuery(request))
      if (!query.ok) return toRejection(query.error)
      const store = await deps.store()
      const rows = await store.readCustomer(query.value)
      const customer =
        rows.length === 0 ? null : toCustomerView(rows, await store.readEvidence(rows))
      if (customer === null && (await store.isBlocked(query.value))) {
        return toRejection({
          status: 409,
          code: 'blocked_identifier',
          message:
            'That value is blocked: it joins no one, so it names no one customer. Look up by another identifier or a contact id',
        })
      }
      if (customer === null) {
        return toRejection({
          status: 404,
          code: 'not_found',
          message: 'No customer has that identifier or contact id',
        })
      }
      return { response: toJsonResponse(customer), outcome: 'found' }
    },
  })
}
