/**
 * The identify shell: reads the customer's cluster, lets the linking core decide, writes the
 * decision atomically, and retries when another request changed the cluster first (README,
 * Decisions: "Concurrency protocol"). lib/identify-handler.ts puts it behind HTTP.
 */
import type { Identifiers, IdentifyResponse } from './contact.js'
import type { ContactStore } from './contact-store.js'
import { classifyDatabaseError } from './db-errors.js'
import { hasWrites, type LinkPlan, planLinks, toIdentifyResponse } from './linking.js'

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
  /**
   * No retry starts once this long has passed since the first attempt: the answer must reach the
   * client before the platform kills the function (Vercel: 10 s).
   */
  budgetMs: number
}

/** The default: up to eight attempts within 4 s, each backoff at most 250 ms. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 10,
  maxDelayMs: 250,
  budgetMs: 4_000,
}

/** The clock, randomness and patience of `identifyContact`; tests fix them. */
export type IdentifyOptions = {
  now?: () => Date
  retry?: RetryPolicy
  random?: () => number
  sleep?: (ms: number) => Promise<void>
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Identifies the customer behind `request`, retrying a write whose cluster changed since it was
 * read. Throws only for failures that are neither conflicts nor an unreachable database.
 */
export async function identifyContact(
  store: ContactStore,
  request: Identifiers,
  options: IdentifyOptions = {},
): Promise<IdentifyResult> {
  const {
    now = () => new Date(),
    retry = DEFAULT_RETRY,
    random = Math.random,
    sleep = sleepFor,
  } = options
  const started = now().getTime()
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
      const delay = random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt)
      const isOutOfPatience =
        attempt >= retry.maxAttempts || now().getTime() - started + delay > retry.budgetMs
      if (failure !== 'conflict' || isOutOfPatience) {
        return { ok: false, error: failure, attempts: attempt }
      }
      await sleep(delay)
    }
  }
}

function toOutcome(plan: LinkPlan): IdentifyOutcome {
  if (plan.primaryId === null) return 'created'
  if (plan.relinkIds.length > 0 || plan.promotesPrimary) return 'merged'
  return plan.insert === null ? 'unchanged' : 'linked'
}
