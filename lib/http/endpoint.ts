/**
 * What every endpoint does around its own work: allow its methods, check the caller, give the
 * request an id, turn anything thrown into the standard answer, and log one line per request.
 */
import { describeFailure, type FailureCause } from '../db/errors.js'
import type { Logger } from '../platform/log.js'
import {
  type ApiError,
  answerThrown,
  type JsonAnswer,
  toErrorAnswer,
  toJsonResponse,
  toMethodNotAllowed,
} from './answer.js'
import { type AuthMode, checkAuthorization } from './auth.js'
import { toPathname } from './pathname.js'

/** A Web handler: `Request` in, `Response` out. */
export type Handler = (request: Request) => Promise<Response>

/** What an endpoint made of one request: its answer and what the request log line says. */
export type Handled = {
  /** The answer: a made `Response`, or a JSON answer the endpoint makes one of. */
  response: Response | JsonAnswer
  outcome: string
  /** Attempts at the database, when known. */
  attempts?: number
  /** Why it failed (a refusal or a thrown error): a kind and a code, never an identifier. */
  cause?: FailureCause
}

/** What the endpoint knows of a request beyond the request itself. */
export type RequestContext = {
  /** The id its answer carries and its log line names; the ledger records changes under it. */
  requestId: string
}

/** Returns the `Handled` for an error answer, which the log records as `rejected`. */
export const toRejection = (error: ApiError): Handled => ({
  response: toErrorAnswer(error),
  outcome: 'rejected',
})

/** Returns a `Handled` for a refusal or a caught failure, logged as `failed` with its cause. */
export const toFailure = (
  error: ApiError,
  details: { attempts?: number; cause?: FailureCause } = {},
): Handled => ({ response: toErrorAnswer(error), outcome: 'failed', ...details })

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
      return toFailure(answerThrown(error, { logger, msg: `${name} failed` }), {
        cause: describeFailure(error),
      })
    }
  }
  return async (request) => {
    const started = performance.now()
    const requestId = toRequestId(request.headers)
    const handled = await handleSafely(request, { requestId })
    const { outcome, attempts, cause } = handled
    const response = toResponse(handled.response, requestId)
    logger.info({
      msg: name,
      requestId,
      method: request.method,
      path: toPathname(request.url),
      status: response.status,
      outcome,
      ...(attempts === undefined ? {} : { attempts }),
      ...(cause === undefined ? {} : { cause }),
      ms: Math.round((performance.now() - started) * 10) / 10,
    })
    return response
  }
}

// The answer as a Response carrying the request's id.
function toResponse(answer: Response | JsonAnswer, requestId: string): Response {
  if (answer instanceof Response) {
    answer.headers.set('x-request-id', requestId)
    return answer
  }
  return toJsonResponse(answer.body, answer.status, {
    ...answer.headers,
    'x-request-id': requestId,
  })
}

// A caller's id is logged as it is, so only an id-like shape is: nothing that can hold an email,
// a name or a line break. Vercel's id is its regions then node-timestamp-hash, e.g.
// `sfo1::iad1::hmvhs-1771412927491-912582182ea4`; outside Vercel, a caller could send it too.
const CALLER_ID = /^[A-Za-z0-9._:-]{1,64}$/
const VERCEL_ID = /^(?=.{1,128}$)[a-z0-9]+(::[a-z0-9]+)*::[a-z0-9]+(-[a-z0-9]+)*$/

// Returns Vercel's request id, else the caller's `x-request-id`, if id-shaped; else a new UUID.
function toRequestId(headers: Headers): string {
  const vercelId = headers.get('x-vercel-id')
  if (vercelId !== null && VERCEL_ID.test(vercelId)) return vercelId
  const callerId = headers.get('x-request-id')
  if (callerId !== null && CALLER_ID.test(callerId)) return callerId
  return crypto.randomUUID()
}
