/**
 * `POST /identify` over HTTP: checks the caller, reads and validates the body, runs the identify
 * shell (lib/identify.ts) and maps every outcome to an answer, in one place. Each request is logged
 * as one line, without its identifiers.
 */

import { classifyDatabaseError, describeError } from '../db/errors.js'
import { type AuthMode, checkAuthorization } from '../http/auth.js'
import {
  type ApiError,
  readJsonBody,
  toErrorResponse,
  toJsonResponse,
  toMethodNotAllowed,
} from '../http/response.js'
import { consoleLogger, type Logger } from '../platform/log.js'
import { parseIdentifyRequest } from './request.js'
import {
  type ContactStore,
  type IdentifyOptions,
  type IdentifyOutcome,
  identifyContact,
} from './shell.js'

/** What the handler needs from the outside world; tests pass real databases and fixed clocks. */
export type IdentifyDeps = IdentifyOptions & {
  store: ContactStore | (() => Promise<ContactStore>)
  /** Who may call; see lib/auth.ts. Required, so no entry point is open by omission. */
  auth: AuthMode
  logger?: Logger
}

const FAILURES: Record<'conflict' | 'busy' | 'unavailable', ApiError> = {
  conflict: {
    status: 503,
    code: 'conflict',
    message: 'This customer is being updated by other requests; retry shortly',
    headers: { 'retry-after': '1' },
  },
  busy: {
    status: 503,
    code: 'busy',
    message: 'The database is busy; retry shortly',
    headers: { 'retry-after': '1' },
  },
  unavailable: {
    status: 503,
    code: 'database_unavailable',
    message: 'The database cannot be reached; retry shortly',
    headers: { 'retry-after': '5' },
  },
}

const INTERNAL_ERROR: ApiError = {
  status: 500,
  code: 'internal_error',
  message: 'Something went wrong on our side',
}

type Handled = {
  response: Response
  outcome: IdentifyOutcome | 'rejected' | 'failed'
  /** Attempts at the database, when known. */
  attempts?: number
}

/**
 * Returns the `POST /identify` handler: Web `Request` in, `Response` out. Every request is logged
 * as one line (id, status, outcome, attempts, latency) without its identifiers.
 */
export function createIdentifyHandler(deps: IdentifyDeps): (request: Request) => Promise<Response> {
  const logger = deps.logger ?? consoleLogger
  const { store, auth } = deps
  const openStore = typeof store === 'function' ? store : () => Promise.resolve(store)
  if (auth.kind === 'refusing') {
    logger.error({
      msg: 'identify refuses every call: IDENTIFY_API_KEYS is not set in production',
    })
  } else {
    logger.info({
      msg: 'identify access',
      mode: auth.kind === 'open' ? 'open to anyone' : 'API keys',
    })
  }

  // The one place outcomes become HTTP answers.
  const handle = async (request: Request, secrets: string[]): Promise<Handled> => {
    const reject = (error: ApiError): Handled => ({
      response: toErrorResponse(error),
      outcome: 'rejected',
    })
    if (request.method !== 'POST') return reject(toMethodNotAllowed('POST'))
    const unauthorized = checkAuthorization(auth, request)
    if (unauthorized !== null) return reject(unauthorized)
    const body = await readJsonBody(request)
    if (!body.ok) return reject(body.error)
    const parsed = parseIdentifyRequest(body.body)
    if (parsed.ok) {
      for (const value of [parsed.request.email, parsed.request.phoneNumber]) {
        if (value !== null) secrets.push(value)
      }
    }
    if (!parsed.ok) {
      const message = parsed.issues.map((issue) => `${issue.path || 'body'}: ${issue.message}`)
      return reject({
        status: 400,
        code: 'invalid_request',
        message: message.join('; '),
        issues: parsed.issues,
      })
    }

    const result = await identifyContact(await openStore(), parsed.request, deps)
    if (!result.ok) {
      return {
        response: toErrorResponse(FAILURES[result.error]),
        outcome: 'failed',
        attempts: result.attempts,
      }
    }
    return {
      response: toJsonResponse(result.response),
      outcome: result.outcome,
      attempts: result.attempts,
    }
  }

  // Every thrown error ends here: a database that went away is a 503, anything else is logged
  // once with its cause and answered with a generic 500.
  const handleSafely = async (request: Request, secrets: string[]): Promise<Handled> => {
    try {
      return await handle(request, secrets)
    } catch (error) {
      const failure = classifyDatabaseError(error)
      if (failure !== 'unexpected') {
        return { response: toErrorResponse(FAILURES[failure]), outcome: 'failed' }
      }
      const { message, ...cause } = describeError(error)
      logger.error({
        msg: 'identify failed',
        error: { ...cause, message: redact(message, secrets) },
      })
      return { response: toErrorResponse(INTERNAL_ERROR), outcome: 'failed' }
    }
  }

  return async (request) => {
    const started = performance.now()
    const requestId =
      (request.headers.get('x-vercel-id') ?? request.headers.get('x-request-id'))?.slice(0, 128) ??
      crypto.randomUUID()
    const { response, outcome, attempts } = await handleSafely(request, [])
    response.headers.set('x-request-id', requestId)
    logger.info({
      msg: 'identify',
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

// A driver message can quote a value; the request's own identifiers never reach the logs.
function redact(message: string, secrets: string[]): string {
  return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message)
}
