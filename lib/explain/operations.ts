/** `GET /api/explain` in the API description (lib/http/openapi.ts). */
import * as v from 'valibot'
import type { ExplainStep } from '../core/explain.js'
import { describing, ErrorBodySchema, type Operation } from '../http/openapi.js'
import { ExplainQuerySchema } from './query.js'

const ends = { from: v.number(), to: v.number(), text: v.string() }

/** One step of a chain of evidence. */
export const ExplainStepSchema = describing<ExplainStep>()(
  v.variant('kind', [
    v.object({ kind: v.literal('shared-email'), ...ends, email: v.string() }),
    v.object({ kind: v.literal('shared-phone'), ...ends, phoneNumber: v.string() }),
    v.object({
      kind: v.literal('request-pair'),
      ...ends,
      email: v.string(),
      phoneNumber: v.string(),
      at: v.pipe(v.string(), v.isoTimestamp()),
      requestId: v.nullable(v.string()),
    }),
    v.object({ kind: v.literal('recorded-link'), ...ends }),
  ]),
)

/** The answer of `GET /api/explain`. */
export const ExplanationSchema = v.object({
  from: v.number(),
  to: v.number(),
  customerId: v.pipe(v.number(), v.description("The customer's primary contact id")),
  steps: v.array(ExplainStepSchema),
})

const error = (description: string) => ({ description, schema: ErrorBodySchema })

/** The operations of ./handler.ts. */
export const EXPLAIN_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/explain',
    summary: 'Why two contacts are one customer: the shortest chain of evidence between them',
    description:
      'Steps are shared emails, shared phone numbers, pairs a request brought together when it merged customers, and, for rows merged before the ledger existed, the stored link.',
    security: 'admin',
    query: ExplainQuerySchema,
    responses: {
      200: { description: 'The chain, from `from` to `to`', schema: ExplanationSchema },
      400: error('A malformed contact id'),
      404: error('No live contact has one of the ids'),
      409: error('The contacts belong to different customers (`not_same_customer`)'),
    },
  },
]
