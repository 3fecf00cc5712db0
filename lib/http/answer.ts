/**
 * The one error shape every endpoint answers with, and the one place where an outcome (a value
 * or a thrown error) becomes an HTTP answer.
 */
import { classifyDatabaseError, describeError } from '../db/errors.js'
import type { Logger } from '../platform/log.js'

/** One problem with a request, named by the dotted path of its field ('' for the whole body). */
export type FieldIssue = { path: string; message: string }

/** An error answer: its status, a stable machine-readable code and a sentence for people. */
export type ApiError = {
  status: number
  code: string
  message: string
  issues?: FieldIssue[]
  headers?: Record<string, string>
}

/** Why the database could not serve a request that was itself fine. */
export type DatabaseRefusal = 'conflict' | 'busy' | 'unavailable' | 'deadline'

const BUSY: ApiError = {
  status: 503,
  code: 'busy',
  message: 'The database is busy; retry shortly',
  headers: { 'retry-after': '1' },
}

const REFUSALS: Record<DatabaseRefusal, ApiError> = {
  conflict: {
    status: 503,
    code: 'conflict',
    message: 'This customer is being updated by other requests; retry shortly',
    headers: { 'retry-after': '1' },
  },
  busy: BUSY,
  // The database did not answer within the request's deadline: slow, as when a statement runs
  // into its timeout (busy too), and whichever of the two cuts it first, the client sees the same.
  deadline: BUSY,
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

/** Returns `body` as a JSON response. */
export function toJsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  })
}

/**
 * A JSON answer before it becomes a `Response`: lib/http/endpoint.ts makes it one with its own
 * headers among the rest, where adding them to a made `Response` builds its `Headers` first.
 */
export type JsonAnswer = { status: number; body: unknown; headers?: Record<string, string> }

/** Returns the answer for `error`: `{"error": {"code", "message", "issues"?}}`. */
export function toErrorAnswer(error: ApiError): JsonAnswer {
  const { status, headers, ...body } = error
  return { status, body: { error: body }, ...(headers === undefined ? {} : { headers }) }
}

/** Returns the response for `error`, as `toErrorAnswer` describes it. */
export function toErrorResponse(error: ApiError): Response {
  const { status, body, headers } = toErrorAnswer(error)
  return toJsonResponse(body, status, headers)
}

/** The 503 answer for a database refusal: every one says when to retry. */
export const toRefusalError = (refusal: DatabaseRefusal): ApiError => REFUSALS[refusal]

/** The 405 answer for a route that only takes `allowed`. */
export function toMethodNotAllowed(allowed: string): ApiError {
  return {
    status: 405,
    code: 'method_not_allowed',
    message: `Use ${allowed} for this endpoint`,
    headers: { allow: allowed },
  }
}

/**
 * Answers a thrown error: a database that refused or went away is a 503 with `Retry-After`;
 * anything else is logged once with its cause (with every value in `secrets` redacted, as a
 * driver's message can quote one) and answered with a generic 500 that leaks nothing.
 */
export function answerThrown(
  error: unknown,
  context: { logger: Logger; msg: string; secrets?: readonly string[] },
): ApiError {
  const failure = classifyDatabaseError(error)
  if (failure !== 'unexpected') return toRefusalError(failure)
  const { message, ...cause } = describeError(error)
  context.logger.error({
    msg: context.msg,
    error: { ...cause, message: redact(message, context.secrets ?? []) },
  })
  return INTERNAL_ERROR
}

function redact(message: string, secrets: readonly string[]): string {
  return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message)
}
