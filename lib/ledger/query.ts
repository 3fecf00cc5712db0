/** The query of `GET /api/events`: where to start, and how many at most. */
import * as v from 'valibot'
import { FEED_START, parseCursor, toCursorText } from '../core/event-cursor.js'

/** `after`: a cursor from an earlier answer (absent: the start); `limit`: 1 to 1000, 100 by default. */
export const EventsQuerySchema = v.strictObject(
  {
    after: v.optional(
      v.pipe(
        v.string(),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          const cursor = parseCursor(dataset.value)
          if (cursor !== null) return cursor
          addIssue({ message: 'must be a cursor from an earlier answer (its `next`)' })
          return NEVER
        }),
      ),
      toCursorText(FEED_START),
    ),
    limit: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,4}$/, 'must be a whole number from 1 to 1000'),
        v.transform(Number),
        v.minValue(1, 'must be a whole number from 1 to 1000'),
        v.maxValue(1000, 'must be a whole number from 1 to 1000'),
      ),
      '100',
    ),
  },
  'is not a query parameter of this endpoint',
)
