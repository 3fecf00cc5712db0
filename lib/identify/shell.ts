/**
 * The identify shell: reads the customer's cluster, lets the linking core decide, writes the
 * decision atomically, and retries when another request changed the cluster first (README,
 * Decisions: "Concurrency protocol"). lib/identify-handler.ts puts it behind HTTP.
 */
import {
  findOverShared,
  type KeyRef,
  type SharingLimits,
  withoutBuiltInBlocked,
} from '../core/blocklist.js'
import type { ContactRow, IdentifyResponse, KeyedIdentifiers, MatchKeys } from '../core/contact.js'
import { hasWrites, type LinkPlan, planLinks, toIdentifyResponse } from '../core/linking.js'
import { raceDeadline, runWithDeadline, timeLeftMs } from '../db/deadline.js'
import {
  classifyDatabaseError,
  type DatabaseFailure,
  describeFailure,
  type FailureCause,
  isUnlinkableError,
} from '../db/errors.js'

/** The database operations the shell needs; lib/identify/store.ts implements them in SQL. */
export type ContactStore = {
  /**
   * Returns the live rows of every customer the keys touch, in one statement; a key on the
   * store's blocklist touches nothing.
   */
  readCluster(keys: MatchKeys): Promise<ContactRow[]>
  /**
   * Carries out `plan` in one transaction, after locking and checking that the cluster is still
   * the one it was planned on; returns the inserted row's id, if any. Throws a 40001 error when
   * the cluster changed, which the caller retries, and refuses (`isUnlinkableError`) a new
   * customer whose every key the blocklist holds by then.
   */
  writePlan(
    plan: LinkPlan,
    request: KeyedIdentifiers,
    linkable: MatchKeys,
    requestId: string | null,
  ): Promise<number | null>
  /**
   * Where the driver has interactive transactions: runs `work` in one transaction that first
   * takes the locks a write of `keys` to the customers led by `leaderIds` takes, handing it
   * a store bound to that transaction. Another writer of those customers then waits until it ends.
   * Its `writePlan` takes a lock the plan needs beyond those only if it is free, and otherwise
   * throws a 40001 error, so the next attempt takes it in order.
   */
  whileLocked?<T>(
    keys: MatchKeys,
    leaderIds: readonly number[],
    work: (store: ContactStore) => Promise<T>,
  ): Promise<T>
}

/** How an identify request changed the customer table. */
export type IdentifyOutcome = 'created' | 'linked' | 'merged' | 'unchanged'

/** The result of identifying a customer: the answer, or why the database could not give it. */
export type IdentifyResult =
  | { ok: true; outcome: IdentifyOutcome; response: IdentifyResponse; attempts: number }
  | {
      ok: false
      error: Exclude<DatabaseFailure, 'unexpected'>
      attempts: number
      /** The last attempt's failure, for the logs. */
      cause: FailureCause
    }
  /** Every identifier of the request is blocked: it can neither join nor start a customer. */
  | { ok: false; error: 'unlinkable'; attempts: number }

/** How often and how patiently a conflicting write is retried. */
export type RetryPolicy = {
  maxAttempts: number
  /** Backoff before retry n (1-based) is uniformly random in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  baseDelayMs: number
  maxDelayMs: number
}

/** The default: up to eight attempts, each backoff at most 250 ms; the deadline bounds them all. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 10,
  maxDelayMs: 250,
}

/** The clock, randomness, patience and deadline of `identifyContact`; tests fix them. */
export type IdentifyOptions = {
  /** The id the ledger records the request's changes under. */
  requestId?: string
  now?: () => Date
  retry?: RetryPolicy
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  /**
   * When the answer is due, on the `performance.now()` clock. Every round trip is bounded by the
   * time left, an attempt still running then is abandoned (its transaction cannot commit), and no
   * retry starts that the time left cannot fit. Unset: no deadline (the integrity repair).
   */
  deadline?: number
  /** How many values of the other kind one value may hold together before it is quarantined. */
  sharingLimits?: SharingLimits
  /**
   * Quarantines shared values: blocks them and splits the customers they joined, in a write of
   * its own (lib/guard). Unset: nothing is quarantined.
   */
  quarantine?: (keys: KeyRef[], requestId: string | null) => Promise<void>
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Identifies the customer behind `request`, retrying a write whose cluster changed since it was
 * read. Throws only for failures that are neither conflicts nor an unreachable database.
 *
 * The first attempt reads without locks. A write that lost a race to the customer's other writers
 * may lose every race after it on a busy customer, so where the store can, every retry takes the
 * locks first and reads and writes under them: it then waits its turn instead of racing again.
 */
export function identifyContact(
  store: ContactStore,
  request: KeyedIdentifiers,
  options: IdentifyOptions = {},
): Promise<IdentifyResult> {
  const { deadline } = options
  const identify = () => identifyWithRetries(store, request, options)
  return deadline === undefined ? identify() : runWithDeadline(deadline, identify)
}

const isSameRef = (a: KeyRef, b: KeyRef) => a.kind === b.kind && a.key === b.key

async function identifyWithRetries(
  store: ContactStore,
  request: KeyedIdentifiers,
  options: IdentifyOptions,
): Promise<IdentifyResult> {
  const {
    now = () => new Date(),
    retry = DEFAULT_RETRY,
    random = Math.random,
    sleep = sleepFor,
  } = options
  const requestId = options.requestId ?? null
  // A key a built-in rule blocks is as good as absent; the store's list is the read's to apply.
  const linkable = withoutBuiltInBlocked(request)
  if (linkable.emailKey === null && linkable.phoneKey === null) {
    return { ok: false, error: 'unlinkable', attempts: 0 }
  }
  // What an attempt needs, as far as this request knows: its longest attempt so far.
  let longestAttemptMs = 0
  // The plan of the latest attempt: its leaders are what a retry locks before reading.
  let latest: LinkPlan | undefined
  // Values this request has quarantined already: a value blocked meanwhile by someone else is
  // still held by rows of the customer, and must not be quarantined again and again.
  const quarantined: KeyRef[] = []
  const readPlanWrite = async (from: ContactStore) => {
    const plan = planLinks(await from.readCluster(linkable), request, now())
    latest = plan
    const overShared = findOverSharedKeys(plan, linkable, options.sharingLimits).filter(
      (ref) => !quarantined.some((done) => isSameRef(done, ref)),
    )
    if (overShared.length > 0 && options.quarantine !== undefined) {
      return { plan, quarantine: overShared, insertedId: null }
    }
    const insertedId = hasWrites(plan)
      ? await from.writePlan(plan, request, linkable, requestId)
      : null
    return { plan, quarantine: [], insertedId }
  }
  for (let attempt = 1; ; attempt++) {
    const attemptStarted = performance.now()
    try {
      const { plan, quarantine, insertedId } = await raceDeadline(
        latest === undefined || store.whileLocked === undefined
          ? readPlanWrite(store)
          : store.whileLocked(linkable, latest.rootIds, readPlanWrite),
      )
      // Outside any transaction of this request's: the quarantine locks the customer itself.
      if (quarantine.length > 0 && options.quarantine !== undefined) {
        await raceDeadline(options.quarantine(quarantine, requestId))
        quarantined.push(...quarantine)
        latest = undefined
        continue
      }
      return {
        ok: true,
        outcome: toOutcome(plan),
        response: toIdentifyResponse(plan, insertedId),
        attempts: attempt,
      }
    } catch (error) {
      if (isUnlinkableError(error)) return { ok: false, error: 'unlinkable', attempts: attempt }
      const failure = classifyDatabaseError(error)
      if (failure === 'unexpected') throw error
      longestAttemptMs = Math.max(longestAttemptMs, performance.now() - attemptStarted)
      const delay = random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt)
      // A retry that cannot end before the deadline would only be cut there, for the same 503.
      const isOutOfPatience =
        attempt >= retry.maxAttempts || timeLeftMs() - delay < longestAttemptMs
      if (failure !== 'conflict' || isOutOfPatience) {
        return { ok: false, error: failure, attempts: attempt, cause: describeFailure(error) }
      }
      await sleep(delay)
    }
  }
}

// The request's values that the customer, once written, would hold together with too many values
// of the other kind (lib/core/blocklist.ts, rule 3). Only a write that adds a row can push one
// past the limit: a merge joins customers that held no common value.
function findOverSharedKeys(
  plan: LinkPlan,
  linkable: MatchKeys,
  limits: SharingLimits | undefined,
): KeyRef[] {
  if (limits === undefined || plan.insert === null) return []
  return findOverShared([...plan.rows, plan.insert], linkable, limits)
}

function toOutcome(plan: LinkPlan): IdentifyOutcome {
  if (plan.primaryId === null) return 'created'
  if (plan.relinkIds.length > 0 || plan.promotesPrimary) return 'merged'
  return plan.insert === null ? 'unchanged' : 'linked'
}
