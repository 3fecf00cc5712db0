/**
 * `GET /api/explain?from={contactId}&to={contactId}`: the shortest chain of evidence that makes two
 * contacts one customer, as steps a person can read (lib/core/explain.ts). Admin only.
 */
import { toCustomerView } from '../core/customer.js'
import { explainLink } from '../core/explain.js'
import { toJsonResponse } from '../http/answer.js'
import type { AuthMode } from '../http/auth.js'
import { createEndpoint, type Handler, toRejection } from '../http/endpoint.js'
import { parseInput, readQuery } from '../http/validation.js'
import type { Logger } from '../platform/log.js'
import { ExplainQuerySchema } from './query.js'
import type { ExplainStore } from './store.js'

/** Returns the explain handler. */
export function createExplainHandler(deps: {
  store: () => Promise<ExplainStore>
  auth: AuthMode
  logger: Logger
}): Handler {
  return createEndpoint({
    name: 'explain',
    methods: ['GET'],
    auth: deps.auth,
    logger: deps.logger,
    async handle(request) {
      const query = parseInput(ExplainQuerySchema, readQuery(request))
      if (!query.ok) return toRejection(query.error)
      const { from, to } = query.value
      const store = await deps.store()
      const rows = await store.readCustomer(from)
      const customer = toCustomerView(rows)
      if (customer === null) return toRejection(notFound(from))
      if (!rows.some((row) => row.id === to)) {
        // Unknown, or another customer's: one more read tells which.
        if ((await store.readCustomer(to)).length === 0) return toRejection(notFound(to))
        return toRejection({
          status: 409,
          code: 'not_same_customer',
          message: `Contacts ${from} and ${to} belong to different customers`,
        })
      }
      const steps = explainLink(rows, await store.readPairs(rows), from, to) ?? []
      return {
        response: toJsonResponse({
          from,
          to,
          customerId: customer.contact.primaryContactId,
          steps,
        }),
        outcome: 'explained',
      }
    },
  })
}

const notFound = (contactId: number) => ({
  status: 404,
  code: 'not_found',
  message: `No live contact has id ${contactId}`,
})
