/**
 * Checks what the guard maintains (README, "The guard"): every live row keyed by the current rules,
 * no customer held together only through a blocked value, and no erased value left on a row older
 * than its erasure or in the ledger. Reports name rows and customers by id only.
 */
import { sql } from 'drizzle-orm'
import { findBuiltInRule, type KeyRef } from '../core/blocklist.js'
import { connectByEvidence } from '../core/evidence.js'
import { type Database, selectRows } from '../db/database.js'
import { type MatchKeyConfig, toKeyVersion, toMatchKeys } from '../guard/match-keys.js'
import { toErasureHash } from '../guard/writes.js'

/** One thing the guard's checks found. */
export type GuardFinding =
  /** Rows keyed under another version, or with a key the current rules would not give. */
  | { kind: 'key-out-of-date'; rowIds: number[] }
  /** A customer whose rows the evidence joins only through a blocked value. */
  | { kind: 'linked-through-blocked-value'; customerId: number; groups: number[][] }
  /** Rows, or recorded pairs, still holding a value erased after they were written. */
  | { kind: 'erased-value-present'; rowIds: number[]; eventIds: number[] }

type Row = {
  id: number
  customerId: number
  email: string | null
  phoneNumber: string | null
  emailKey: string | null
  phoneKey: string | null
  keyVersion: string
  createdAt: Date | string
}

/**
 * Returns what the guard's checks find. Like the ledger check, it reads every live row at once:
 * an operator's tool, meant to run beside the service, not in it.
 */
export async function checkGuard(
  database: Database,
  config: { matchKeys: MatchKeyConfig; erasureKey: string },
): Promise<GuardFinding[]> {
  const [rows, blockedRows, pairs, erased] = await Promise.all([
    selectRows<Row>(
      database.db,
      sql`select "id", coalesce("linkedId", "id") as "customerId", "email", "phoneNumber",
            "emailKey", "phoneKey", "keyVersion", "createdAt"
          from "Contact" where "deletedAt" is null order by "createdAt", "id"`,
    ),
    selectRows<KeyRef>(database.db, sql`select "kind", "key" from "BlockedIdentifier"`),
    selectRows<{
      id: number
      emailKey: string | null
      phoneKey: string | null
      createdAt: Date | string
    }>(
      database.db,
      sql`select "id"::integer as "id", "evidenceEmailKey" as "emailKey", "evidencePhoneKey" as "phoneKey", "createdAt"
          from "ContactEvent" where "evidenceEmailKey" is not null or "evidencePhoneKey" is not null`,
    ),
    selectRows<{ kind: KeyRef['kind']; keyHash: string; erasedAt: Date | string }>(
      database.db,
      sql`select "kind", "keyHash", "erasedAt" from "ErasedIdentifier"`,
    ),
  ])
  const findings: GuardFinding[] = []
  const version = toKeyVersion(config.matchKeys)
  const stale = rows.filter((row) => {
    const keys = toMatchKeys(row, config.matchKeys)
    return (
      row.keyVersion !== version || keys.emailKey !== row.emailKey || keys.phoneKey !== row.phoneKey
    )
  })
  if (stale.length > 0)
    findings.push({
      kind: 'key-out-of-date',
      rowIds: stale.map((row) => row.id).sort((a, b) => a - b),
    })

  const blocked = new Set(blockedRows.map((ref) => `${ref.kind}:${ref.key}`))
  const isBlocked = (kind: KeyRef['kind'], key: string | null) =>
    key !== null && (findBuiltInRule({ kind, key }) !== null || blocked.has(`${kind}:${key}`))
  findings.push(...findLinksThroughBlocked(rows, pairs, isBlocked))

  // A value erased at T may come back on a row written after T (the same person checking out
  // again starts afresh), never on one written before.
  const erasedAt = new Map(
    erased.map((entry) => [`${entry.kind}:${entry.keyHash}`, new Date(entry.erasedAt)]),
  )
  const isErasedBefore = (kind: KeyRef['kind'], key: string | null, createdAt: Date | string) => {
    if (key === null || erasedAt.size === 0) return false
    const at = erasedAt.get(`${kind}:${toErasureHash({ kind, key }, config.erasureKey)}`)
    return at !== undefined && new Date(createdAt) < at
  }
  const isStillHeld = (item: {
    emailKey: string | null
    phoneKey: string | null
    createdAt: Date | string
  }) =>
    isErasedBefore('email', item.emailKey, item.createdAt) ||
    isErasedBefore('phoneNumber', item.phoneKey, item.createdAt)
  const rowIds = rows.filter(isStillHeld).map((row) => row.id)
  const eventIds = pairs.filter(isStillHeld).map((pair) => pair.id)
  if (rowIds.length + eventIds.length > 0) {
    findings.push({ kind: 'erased-value-present', rowIds, eventIds })
  }
  return findings
}

// Customers the evidence explains with blocked values counted, but not without them.
function findLinksThroughBlocked(
  rows: readonly Row[],
  pairs: readonly { emailKey: string | null; phoneKey: string | null }[],
  isBlocked: (kind: KeyRef['kind'], key: string | null) => boolean,
): GuardFinding[] {
  const asEvidence = (withBlocked: boolean) => {
    const keep = (kind: KeyRef['kind'], key: string | null) =>
      key !== null && (withBlocked || !isBlocked(kind, key)) ? key : null
    return {
      rows: rows.map((row) => ({
        id: row.id,
        customerId: row.customerId,
        email: keep('email', row.emailKey),
        phoneNumber: keep('phoneNumber', row.phoneKey),
      })),
      pairs: pairs.map((pair) => ({
        email: keep('email', pair.emailKey),
        phoneNumber: keep('phoneNumber', pair.phoneKey),
      })),
    }
  }
  const partsOf = (withBlocked: boolean) => {
    const { rows: evidence, pairs: joined } = asEvidence(withBlocked)
    const customerOf = new Map(rows.map((row) => [row.id, row.customerId]))
    const parts = new Map<number, number[][]>()
    for (const group of connectByEvidence(evidence, joined)) {
      const byCustomer = new Map<number, number[]>()
      for (const id of group) {
        const customer = customerOf.get(id) ?? id
        byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), id])
      }
      for (const [customer, ids] of byCustomer)
        parts.set(customer, [...(parts.get(customer) ?? []), ids])
    }
    return parts
  }
  const withBlocked = partsOf(true)
  const findings: GuardFinding[] = []
  for (const [customerId, groups] of partsOf(false)) {
    if (groups.length > (withBlocked.get(customerId)?.length ?? 0)) {
      findings.push({ kind: 'linked-through-blocked-value', customerId, groups })
    }
  }
  return findings
}
