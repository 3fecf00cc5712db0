/**
 * Values that never link anything. Pure. A blocked value is still stored and shown on its row;
 * it only stops counting as evidence that two rows are one person.
 *
 * 1. Built-in rules catch only values that cannot be a person's (README, "The guard"):
 *    - a phone number made only of zeros (`0000000000`, `+000`);
 *    - a placeholder word in either field: `null`, `undefined`, `none`, `n/a`, `unknown`, and an
 *      email whose mailbox is one (`unknown@store.com`);
 *    - a no-reply mailbox: `noreply@…`, `no-reply@…`, `donotreply@…`, `do-not-reply@…`.
 *    Short or repetitive numbers (`123456`, `111`, `+1111111111`) and test domains are ordinary
 *    data: if one is really shared, the quarantine (rule 3) catches it.
 * 2. The store's own entries (`store`) and quarantined values (`auto`) are kept in the database.
 * 3. A value seen with more distinct values of the other kind than the limit allows (a phone with
 *    more than `maxEmailsPerPhone` emails, an email with more than `maxPhonesPerEmail` phones) is
 *    shared, not personal: it is quarantined.
 */
import type { ContactRow, IdentifierKind, MatchKeys } from './contact.js'

/** Why a value is on the store's blocklist: put there by the store, or quarantined. */
export const BLOCK_REASONS = ['store', 'auto'] as const

/** Why a value is on the store's blocklist. */
export type BlockReason = (typeof BLOCK_REASONS)[number]

/** A value by kind and match key, as the blocklist and the guard's operations name it. */
export type KeyRef = { kind: IdentifierKind; key: string }

const PLACEHOLDER_WORDS = new Set(['null', 'undefined', 'none', 'n/a', 'unknown'])
const NO_REPLY_MAILBOXES = new Set(['noreply', 'no-reply', 'donotreply', 'do-not-reply'])

/** Whether `text` is a placeholder word (rule 1), in any letter case. */
export const isPlaceholderWord = (text: string): boolean =>
  PLACEHOLDER_WORDS.has(text.trim().toLowerCase())

/** Returns the built-in rule (rule 1) that blocks a match key, or null when none does. */
export function findBuiltInRule({
  kind,
  key,
}: KeyRef): 'zeros' | 'placeholder' | 'no-reply' | null {
  if (isPlaceholderWord(key)) return 'placeholder'
  if (kind === 'phoneNumber') return /^\+?0+$/.test(key) ? 'zeros' : null
  const mailbox = key.slice(0, key.lastIndexOf('@'))
  if (PLACEHOLDER_WORDS.has(mailbox)) return 'placeholder'
  return NO_REPLY_MAILBOXES.has(mailbox) ? 'no-reply' : null
}

/** Returns `keys` without those a built-in rule blocks: what a request may link through. */
export function withoutBuiltInBlocked({ emailKey, phoneKey }: MatchKeys): MatchKeys {
  const isBlocked = (ref: KeyRef) => findBuiltInRule(ref) !== null
  return {
    emailKey: emailKey !== null && isBlocked({ kind: 'email', key: emailKey }) ? null : emailKey,
    phoneKey:
      phoneKey !== null && isBlocked({ kind: 'phoneNumber', key: phoneKey }) ? null : phoneKey,
  }
}

/** Returns the keys of `keys` present, as references. */
export function toKeyRefs({ emailKey, phoneKey }: MatchKeys): KeyRef[] {
  return [
    ...(emailKey === null ? [] : [{ kind: 'email' as const, key: emailKey }]),
    ...(phoneKey === null ? [] : [{ kind: 'phoneNumber' as const, key: phoneKey }]),
  ]
}

/** How many distinct values of the other kind one value may hold together (rule 3). */
export type SharingLimits = { maxEmailsPerPhone: number; maxPhonesPerEmail: number }

/**
 * The defaults: a household or a small office shares a phone among a few people, each with an
 * email or two; more than 20 distinct emails behind one phone is a shop counter, a placeholder or
 * a reseller, and more than 20 phones behind one email is a shared inbox.
 */
export const DEFAULT_SHARING_LIMITS: SharingLimits = {
  maxEmailsPerPhone: 20,
  maxPhonesPerEmail: 20,
}

/**
 * Returns the keys of `request` that `rows` (a customer as it would be after the request's
 * write) hold together with more distinct values of the other kind than `limits` allow (rule 3).
 */
export function findOverShared(
  rows: readonly Pick<ContactRow, 'emailKey' | 'phoneKey'>[],
  request: MatchKeys,
  limits: SharingLimits,
): KeyRef[] {
  const over: KeyRef[] = []
  const count = (matches: (row: MatchKeys) => boolean, other: (row: MatchKeys) => string | null) =>
    new Set(
      rows
        .filter(matches)
        .map(other)
        .filter((key) => key !== null),
    ).size
  const { phoneKey, emailKey } = request
  if (
    phoneKey !== null &&
    count(
      (row) => row.phoneKey === phoneKey,
      (row) => row.emailKey,
    ) > limits.maxEmailsPerPhone
  ) {
    over.push({ kind: 'phoneNumber', key: phoneKey })
  }
  if (
    emailKey !== null &&
    count(
      (row) => row.emailKey === emailKey,
      (row) => row.phoneKey,
    ) > limits.maxPhonesPerEmail
  ) {
    over.push({ kind: 'email', key: emailKey })
  }
  return over
}
