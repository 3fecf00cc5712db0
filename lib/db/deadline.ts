/**
 * A request's deadline, as the database drivers see it: every round trip made while it runs is
 * bounded by the time left, and no transaction commits once it has passed (README, Reliability).
 * It travels with the request's async context, so the store and its statements need not carry it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

// When the current request's answer is due, on the `performance.now()` clock.
const deadlines = new AsyncLocalStorage<number>()

/** The request's deadline passed before the database answered. */
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError'
  constructor() {
    super('The request deadline passed before the database answered')
  }
}

/** Runs `work` with every database call it makes bounded by `deadline` (`performance.now()` time). */
export function runWithDeadline<T>(deadline: number, work: () => Promise<T>): Promise<T> {
  return deadlines.run(deadline, work)
}

/** Returns the milliseconds left before the current deadline; Infinity outside one. */
export function timeLeftMs(): number {
  const deadline = deadlines.getStore()
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - performance.now()
}

/**
 * Returns how long a round trip may take: `timeoutMs`, or the time left when that is shorter.
 * Throws DeadlineExceededError when no time is left.
 */
export function boundTimeout(timeoutMs: number): number {
  const left = Math.floor(timeLeftMs())
  if (left <= 0) throw new DeadlineExceededError()
  return Math.min(timeoutMs, left)
}

/**
 * Returns an abort signal for one round trip: it aborts after `timeoutMs` with a TimeoutError,
 * or at the deadline, when sooner, with a DeadlineExceededError.
 */
export function toRoundTripSignal(timeoutMs: number): AbortSignal {
  const bound = boundTimeout(timeoutMs)
  if (bound === timeoutMs) return AbortSignal.timeout(timeoutMs)
  const controller = new AbortController()
  setTimeout(() => controller.abort(new DeadlineExceededError()), bound).unref()
  return controller.signal
}

/** Throws DeadlineExceededError once the current deadline has passed. */
export function assertBeforeDeadline(): void {
  if (timeLeftMs() <= 0) throw new DeadlineExceededError()
}

/**
 * Settles as `work` does, or rejects with DeadlineExceededError at the deadline if `work` has not
 * settled by then. `work` itself goes on: whoever started it must make sure it ends.
 */
export function raceDeadline<T>(work: Promise<T>): Promise<T> {
  const left = timeLeftMs()
  if (left === Number.POSITIVE_INFINITY) return work
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError()), Math.max(0, left))
  })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}
