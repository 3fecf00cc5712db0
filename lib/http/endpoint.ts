/**
 * What every endpoint does around its own work: allow its methods, check the caller, give the
 * request an id, turn anything thrown into the standard answer, and log one line per request.
 */
import type { Logger } from '../platform/log.js'
import { type ApiError, answerThrown, toErrorResponse, toMethodNotAllowed } from './answer.js'
import { type AuthMode, checkAuthorization } from './auth.js'

/** A Web handler: `Request` in, `Response` out. */
export type Handler = (request: Request) => Promise<Response>

/** What an endpoint made of one request: its answer and what the request log line says. */
export type Handled = {
  response: Response
  outcome: string
  /** Attempts at the database, when known. */
  attempts?: number
}

/** What the endpoint knows of a request beyond the request itself. */
export type RequestContext = {
  /** The id its answer carries and its log line names; the ledger records changes under it. */
  requestId: string
}

/** Returns the `Handled` for an error answer, which the log records as `rejected`. */
export const toRejection = (error: ApiError): Handled => ({
  response: toErrorResponse(error),
  outcome: 'rejected',
})

/** Returns a `Handled` for a refusal or a caught failure, logged as `failed`. */
export const toFailure = (error: ApiError, attempts?: number): Handled => ({
  response: toErrorResponse(error),
  outcome: 'failed',
  ...(attempts === undefined ? {} : { attempts }),
})

/**
 * Returns a handler that answers `methods` only, callers `auth` allows only (when given), and
 * otherwise runs `handle`. Each request is logged once as `{msg: name, requestId, status, ...}`.
 */
export function createEndpoint(spec: {
  name: string
  methods: readonly string[]
  auth?: AuthMode
  logger: Logger
  handle: (request: Request, context: RequestContext) => Promise<Handled>
}): Handler {
  const { name, methods, auth, logger, handle } = spec
  const handleSafely = async (request: Request, context: RequestContext): Promise<Handled> => {
    if (!methods.includes(request.method))
      return toRejection(toMethodNotAllowed(methods.join(', ')))
    const unauthorized = auth === undefined ? null : checkAuthorization(auth, request)
    if (unauthorized !== null) return toRejection(unauthorized)
    try {
      return await handle(request, context)
    } catch (error) {
      return toFailure(answerThrown(error, { logger, msg: `${name} failed` }))
    }
  }
  return async (request) => {
    const started = performance.now()
    const requestId =
      (request.headers.get('x-vercel-id') ?? request.headers.get('x-request-id'))?.slice(0, 128) ??
      crypto.randomUUID()
    const { response, outcome, attempts } = await handleSafely(request, { requestId })
    response.headers.set('x-request-id', requestId)
    logger.info({
      msg: name,
      requestId,
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      outcome,
      ...(attempts === undefined ? {} : { attempts }),
      ms: Math.round((performance.now() - started) * 10) / 10,
    })
    return response
  }
}
