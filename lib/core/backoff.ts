/** How long a failing delivery waits before its next attempt. Pure. */

/** The schedule: `baseMs` after the first failure, doubling, never more than `capMs`. */
export type BackoffSchedule = { baseMs: number; capMs: number }

/** Webhooks: 5 s, doubling to at most an hour, retried as long as it takes (README, Webhooks). */
export const WEBHOOK_BACKOFF: BackoffSchedule = { baseMs: 5_000, capMs: 3_600_000 }

/** Returns the wait after the `failures`-th failure in a row (1-based). */
export function toRetryDelayMs(failures: number, schedule: BackoffSchedule): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 40)
  return Math.min(schedule.capMs, schedule.baseMs * 2 ** exponent)
}
