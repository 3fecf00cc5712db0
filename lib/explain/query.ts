/** The query of `GET /api/explain`: two contact ids. */
import * as v from 'valibot'
import { ContactIdSchema } from '../lookup/query.js'

/** `from` and `to`: any two contact ids. */
export const ExplainQuerySchema = v.strictObject(
  { from: ContactIdSchema, to: ContactIdSchema },
  'is not a query parameter of this endpoint',
)

/** A validated explain query. */
export type ExplainQuery = v.InferOutput<typeof ExplainQuerySchema>
