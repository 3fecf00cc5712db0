/** `GET /api/health`: whether the database answers, and nothing about where it is. */
import { type Database, pingDatabase } from '../db/database.js'
import { describeError } from '../db/errors.js'
import { toJsonResponse } from '../http/answer.js'
import { createEndpoint, type Handler } from '../http/endpoint.js'
import { consoleLogger, type Logger } from '../platform/log.js'

/** Returns the health handler: 200 when the database answers, 503 when it does not. */
export function createHealthHandler(deps: {
  database: () => Promise<Database>
  logger?: Logger
}): Handler {
  const logger = deps.logger ?? consoleLogger
  return createEndpoint({
    name: 'health',
    methods: ['GET', 'HEAD'],
    logger,
    async handle() {
      try {
        const database = await deps.database()
        await pingDatabase(database)
        return {
          response: toJsonResponse({
            status: 'ok',
            database: { driver: database.driver, reachable: true },
          }),
          outcome: 'ok',
        }
      } catch (error) {
        logger.error({ msg: 'health check failed', error: describeError(error) })
        return {
          response: toJsonResponse({ status: 'unavailable', database: { reachable: false } }, 503, {
            'retry-after': '5',
          }),
          outcome: 'failed',
        }
      }
    },
  })
}
