/**
 * Erasure (GDPR Art. 17): a value wherever it is held, or a whole customer. The value leaves every
 * row (a row left with nothing is deleted), the ledger's evidence and a quarantine entry; a keyed
 * hash of it is kept (./writes.ts). What it held together is regrouped by the evidence left.
 */
import { findBuiltInRule, type KeyRef } from '../core/blocklist.js'
import type { ContactRow } from '../core/contact.js'
import { customerOf, holds, toSplitEvents, toTouchEvents } from '../core/guard-events.js'
import type { PlannedEvent } from '../core/ledger.js'
import { planRegroup, type Regroup } from '../core/regroup.js'
import { throughContact, throughKeys } from '../identify/cluster-read.js'
import {
  type GuardDeps,
  type GuardResult,
  keysOf,
  NO_KEYS,
  type Options,
  type ValueRef,
  withRetries,
  writeGuarded,
} from './shell.js'
import { type Affected, buildRelinks, readAffected, toRefText } from './store.js'
import { buildErasure, type Erasure } from './writes.js'

/** What an erasure removed, and how the customers left fell apart. */
export type EraseOutcome = {
  contactIds: number[]
  deletedContactIds: number[]
  emails: string[]
  phoneNumbers: string[]
  splits: Regroup['splits']
}

/** Erases `ref` wherever it is held: the rows, the ledger's evidence, a quarantine entry. */
export function eraseValue(
  deps: GuardDeps,
  ref: ValueRef,
  options: Options = {},
): Promise<GuardResult<EraseOutcome>> {
  return withRetries(deps, async (): Promise<GuardResult<EraseOutcome>> => {
    const affected = await readAffected(deps.database, throughKeys(keysOf(ref)), keysOf(ref))
    const held = affected.rows.filter((row) => holds(row, ref))
    if (held.length === 0) return { ok: false, error: 'not_found' as const }
    return erase(deps, affected, { refs: [ref], contactIds: held.map((row) => row.id) }, options)
  })
}

/** Erases the customer `contactId` belongs to: every row, and every value only it held. */
export function eraseCustomer(
  deps: GuardDeps,
  contactId: number,
  options: Options = {},
): Promise<GuardResult<EraseOutcome>> {
  return withRetries(deps, async (): Promise<GuardResult<EraseOutcome>> => {
    const affected = await readAffected(deps.database, throughContact(contactId), NO_KEYS)
    if (affected.rows.length === 0) return { ok: false, error: 'not_found' as const }
    // A blocked value (a placeholder, the store's own phone) is not this person's: it is removed
    // with their rows, and stays on everyone else's.
    const refs: ValueRef[] = []
    for (const row of affected.rows) {
      for (const ref of [
        { kind: 'email' as const, key: row.emailKey, value: row.email },
        { kind: 'phoneNumber' as const, key: row.phoneKey, value: row.phoneNumber },
      ]) {
        if (ref.key === null || ref.value === null) continue
        const keyRef = { kind: ref.kind, key: ref.key }
        if (findBuiltInRule(keyRef) !== null || affected.blocked.has(toRefText(keyRef))) continue
        if (!refs.some((known) => known.kind === ref.kind && known.key === ref.key)) {
          refs.push({ ...keyRef, value: ref.value })
        }
      }
    }
    const contactIds = affected.rows.map((row) => row.id)
    return erase(deps, affected, { refs, contactIds, isWholeCustomer: true }, options)
  })
}

async function erase(
  deps: GuardDeps,
  affected: Affected,
  target: { refs: ValueRef[]; contactIds: number[]; isWholeCustomer?: boolean },
  options: Options,
): Promise<GuardResult<EraseOutcome>> {
  const held = new Set(target.contactIds)
  const isErased = (kind: KeyRef['kind'], key: string | null) =>
    key !== null && target.refs.some((ref) => ref.kind === kind && ref.key === key)
  const remaining: ContactRow[] = []
  const deleted: number[] = []
  for (const row of affected.rows) {
    const emailGone = isErased('email', row.emailKey) || target.isWholeCustomer === true
    const phoneGone = isErased('phoneNumber', row.phoneKey) || target.isWholeCustomer === true
    const left = {
      ...row,
      ...(emailGone ? { email: null, emailKey: null } : {}),
      ...(phoneGone ? { phoneNumber: null, phoneKey: null } : {}),
    }
    if (
      left.emailKey === null &&
      left.phoneKey === null &&
      left.email === null &&
      left.phoneNumber === null
    ) {
      deleted.push(row.id)
    } else {
      remaining.push(left)
    }
  }
  const regroup = planRegroup({
    rows: remaining,
    pairs: affected.pairs.filter(
      (pair) => !isErased('email', pair.emailKey) && !isErased('phoneNumber', pair.phoneKey),
    ),
    isBlocked: (ref) => affected.blocked.has(toRefText(ref)),
    keepCustomers: false,
  })
  const outcome: EraseOutcome = {
    contactIds: [...held].sort((a, b) => a - b),
    deletedContactIds: deleted.sort((a, b) => a - b),
    emails: target.refs.filter((ref) => ref.kind === 'email').map((ref) => ref.value),
    phoneNumbers: target.refs.filter((ref) => ref.kind === 'phoneNumber').map((ref) => ref.value),
    splits: regroup.splits,
  }
  if (options.dryRun === true) return { ok: true, ...outcome }
  const erasure: Erasure = {
    refs: target.refs,
    deletedIds: deleted,
    contactIds: target.isWholeCustomer === true ? target.contactIds : [],
    erasureKey: deps.erasureKey,
  }
  const firstRef = target.refs[0]
  const events: PlannedEvent[] = target.isWholeCustomer
    ? [
        {
          kind: 'customer_erased',
          primaryId: customerOf(affected.rows[0] as ContactRow),
          contactIds: target.contactIds,
          absorbedIds: [],
          joinedBy: null,
          evidence: null,
        },
      ]
    : [
        ...(firstRef === undefined
          ? []
          : toTouchEvents('identifier_erased', firstRef, affected.rows)),
        ...toSplitEvents(regroup, firstRef?.kind ?? 'email'),
      ]
  await writeGuarded(
    deps,
    affected,
    options,
    (db, now) => [buildRelinks(db, regroup.relinks, now), ...buildErasure(db, erasure, now)],
    events,
  )
  return { ok: true, ...outcome }
}
