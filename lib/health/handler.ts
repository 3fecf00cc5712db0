import { describeError } from '../db/errors.js'
import { type Database, pingDatabase } from '../db/open.js'
import { toErrorResponse, toJsonResponse, toMethodNotAllowed } from '../http/response.js'
import { consoleLogger, type Logger } from '../platform/log.js'

/**
 * Returns the `GET /api/health` handler: 200 when the database answers, 503 when it does not.
 * It names the driver but nothing about where the database is.
 */
export function createHealthHandler(deps: {
  database: () => Promise<Database>
  logger?: Logger
}): (request: Request) => Promise<Response> {
  const logger = deps.logger ?? consoleLogger
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return toErrorResponse(toMethodNotAllowed('GET'))
    }
    try {
      const database = await deps.database()
      await pingDatabase(database)
      return toJsonResponse({
        status: 'ok',
        database: { driver: database.driver, reachable: true },
      })
    } catch (error) {
      logger.error({ msg: 'health check failed', error: describeError(error) })
      return toJsonResponse({ status: 'unavailable', database: { reachable: false } }, 503, {
        'retry-after': '5',
      })
    }
  }
}
