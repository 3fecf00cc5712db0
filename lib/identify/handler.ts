/**
 * `POST /identify` over HTTP: reads and validates the body and runs the identify shell
 * (./shell.ts). Methods, the caller's key, the request id, thrown errors and the request's log
 * line are the endpoint's (lib/http/endpoint.ts); no identifier ever reaches the logs.
 */
import { describeFailure } from '../db/errors.js'
import { createMatchKeyer, DEFAULT_MATCH_KEYS, type MatchKeyConfig } from '../guard/match-keys.js'
import { type ApiError, answerThrown, toRefusalError } from '../http/answer.js'
import type { AuthMode } from '../http/auth.js'
import { readJsonBody } from '../http/body.js'
import { createEndpoint, type Handler, toFailure, toRejection } from '../http/endpoint.js'
import { toInvalidRequest } from '../http/validation.js'
import { DEFAULT_REQUEST_DEADLINE_MS } from '../platform/env.js'
import { consoleLogger, type Logger } from '../platform/log.js'
import { parseIdentifyRequest } from './request.js'
import { type ContactStore, type IdentifyOptions, identifyContact } from './shell.js'

/** What the handler needs from the outside world; tests pass real databases and fixed clocks. */
export type IdentifyDeps = Omit<IdentifyOptions, 'deadline'> & {
  /** How long a request may take, from arrival to answer; default 8 s (lib/platform/env.ts). */
  deadlineMs?: number
  store: ContactStore | (() => Promise<ContactStore>)
  /** Who may call; see lib/http/auth.ts. Required, so no entry point is open by omission. */
  auth: AuthMode
  logger?: Logger
  /** Called once a request has changed the graph, after its answer is ready (webhooks). */
  afterChange?: () => void
  /** How identifiers are matched; by default exactly as stored. */
  matchKeys?: MatchKeyConfig
}

const UNLINKABLE: ApiError = {
  status: 422,
  code: 'unlinkable_identifier',
  message:
    'Every identifier of this request is blocked (a placeholder, a no-reply address or a value on the blocklist): it can neither join nor start a customer',
}

/** Returns the `POST /identify` handler: Web `Request` in, `Response` out. */
export function createIdentifyHandler(deps: IdentifyDeps): Handler {
  const logger = deps.logger ?? consoleLogger
  const { store, auth, deadlineMs = DEFAULT_REQUEST_DEADLINE_MS } = deps
  const keyer = createMatchKeyer(deps.matchKeys ?? DEFAULT_MATCH_KEYS)
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

  return createEndpoint({
    name: 'identify',
    methods: ['POST'],
    auth,
    logger,
    async handle(request, { requestId }) {
      const deadline = performance.now() + deadlineMs
      const body = await readJsonBody(request)
      if (!body.ok) return toRejection(body.error)
      const parsed = parseIdentifyRequest(body.body)
      if (!parsed.ok) return toRejection(toInvalidRequest(parsed.issues))
      const { identifiers } = parsed
      const keyed = { ...identifiers, ...keyer.toMatchKeys(identifiers) }
      try {
        const result = await identifyContact(await openStore(), keyed, {
          ...deps,
          deadline,
          requestId,
        })
        if (!result.ok && result.error === 'unlinkable') return toRejection(UNLINKABLE)
        if (!result.ok) {
          const { attempts, cause } = result
          return toFailure(toRefusalError(result.error), { attempts, cause })
        }
        if (result.outcome !== 'unchanged') deps.afterChange?.()
        return {
          response: { status: 200, body: result.response },
          outcome: result.outcome,
          attempts: result.attempts,
        }
      } catch (error) {
        // A driver's message can quote a value it was sent: the request's own identifiers are
        // redacted from whatever is logged.
        const secrets = [identifiers.email, identifiers.phoneNumber].filter(
          (value) => value !== null,
        )
        return toFailure(answerThrown(error, { logger, msg: 'identify failed', secrets }), {
          cause: describeFailure(error),
        })
      }
    },
  })
}
