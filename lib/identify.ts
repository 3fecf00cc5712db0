/**
 * The identify shell: reads the customer's cluster, lets the linking core decide, writes the
 * decision atomically, retries when another request changed the cluster first, and maps every
 * outcome to HTTP (README, Decisions: "Concurrency protocol").
 */

import { type AuthMode, checkAuthorization } from './auth.js'
import type { Identifiers, IdentifyResponse } from './contact.js'
import type { ContactStore } from './contact-store.js'
import { classifyDatabaseError, describeError } from './db-errors.js'
import {
  type ApiError,
  readJsonBody,
  toErrorResponse,
  toJsonResponse,
  toMethodNotAllowed,
} from './http.js'
import { hasWrites, planLinks, toIdentifyResponse } from './linking.js'
import { consoleLogger, type Logger } from './log.js'
import { parseIdentifyRequest } from './request.js'

/** How an identify request changed the customer table. */
export type IdentifyOutcome = 'created' | 'linked' | 'merged' | 'unchanged'

/** The result of identifying a customer: the answer, or why the database could not give it. */
export type IdentifyResult =
  | { ok: true; outcome: IdentifyOutcome; response: IdentifyResponse; attempts: number }
  | { ok: false; error: 'conflict' | 'busy' | 'unavailable'; attempts: number }

/** How often and how patiently a conflicting write is retried. */
export type RetryPolicy = {
  maxAttempts: number
  /** Backoff before retry n (1-based) is uniformly random in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  baseDelayMs: number
  maxDelayMs: number
}

/** The default: eight attempts, each backoff at most 250 ms, so about a second of waiting at worst. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 10, maxDelayMs: 250 }

/** What the shell needs from the outside world; tests pass real databases and fixed clocks. */
export type IdentifyDeps = {
  store: ContactStore | (() => Promise<ContactStore>)
  /** Who may call; see lib/auth.ts. Required, so no entry point is open by omission. */
  auth: AuthMode
  now?: () => Date
  retry?: RetryPolicy
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  logger?: Logger
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Identifies the customer behind `request`, retrying a write whose cluster changed since it was
 * read. Throws only for failures that are neither conflicts nor an unreachable database.
 */
export async function identifyContact(
  store: ContactStore,
  request: Identifiers,
  deps: Omit<IdentifyDeps, 'store' | 'auth' | 'logger'> = {},
): Promise<IdentifyResult> {
  const {
    now = () => new Date(),
    retry = DEFAULT_RETRY,
    random = Math.random,
    sleep = sleepFor,
  } = deps
  for (let attempt = 1; ; attempt++) {
    try {
      const cluster = await store.readCluster(request)
      const plan = planLinks(cluster, request, now())
      const insertedId = hasWrites(plan) ? await store.writePlan(plan, request) : null
      return {
        ok: true,
        outcome: toOutcome(plan),
        response: toIdentifyResponse(plan, insertedId),
        attempts: attempt,
      }
    } catch (error) {
      const failure = classifyDatabaseError(error)
      if (failure === 'unexpected') throw error
      if (failure !== 'conflict' || attempt >= retry.maxAttempts) {
        return { ok: false, error: failure, attempts: attempt }
      }
      await sleep(random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt))
    }
  }
}

function toOutcome(plan: ReturnType<typeof planLinks>): IdentifyOutcome {
  if (plan.primaryId === null) return 'created'
  if (plan.relinkIds.length > 0 || plan.promotesPrimary) return 'merged'
  return plan.insert === null ? 'unchanged' : 'linked'
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
  attempts: number
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
  const handle = async (request: Request): Promise<Handled> => {
    const reject = (error: ApiError): Handled => ({
      response: toErrorResponse(error),
      outcome: 'rejected',
      attempts: 0,
    })
    if (request.method !== 'POST') return reject(toMethodNotAllowed('POST'))
    const unauthorized = checkAuthorization(auth, request)
    if (unauthorized !== null) return reject(unauthorized)
    const body = await readJsonBody(request)
    if (!body.ok) return reject(body.error)
    const parsed = parseIdentifyRequest(body.body)
    if (!parsed.ok) {
      const message = parsed.issues.map((issue) => `${issue.path || 'body'}: ${issue.message}`)
      return reject({
        status: 400,
        code: 'invalid_request',
        message: message.join('; '),
        issues: parsed.issues,
      })
    }

    try {
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
    } catch (error) {
      const failure = classifyDatabaseError(error)
      if (failure === 'unexpected') {
        logger.error({
          msg: 'identify failed',
          error: redact(describeError(error), parsed.request),
        })
      }
      const answer = failure === 'unexpected' ? INTERNAL_ERROR : FAILURES[failure]
      return { response: toErrorResponse(answer), outcome: 'failed', attempts: 1 }
    }
  }

  return async (request) => {
    const started = performance.now()
    const requestId =
      (request.headers.get('x-vercel-id') ?? request.headers.get('x-request-id'))?.slice(0, 128) ??
      crypto.randomUUID()
    const { response, outcome, attempts } = await handle(request)
    response.headers.set('x-request-id', requestId)
    logger.info({
      msg: 'identify',
      requestId,
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      outcome,
      attempts,
      ms: Math.round((performance.now() - started) * 10) / 10,
    })
    return response
  }
}

// A driver message can quote a value; the request's own identifiers never reach the logs.
function redact<T extends object>(fields: T, request: Identifiers): T {
  let text = JSON.stringify(fields)
  for (const secret of [request.email, request.phoneNumber]) {
    if (secret !== null) text = text.split(JSON.stringify(secret).slice(1, -1)).join('[redacted]')
  }
  return JSON.parse(text) as T
}
