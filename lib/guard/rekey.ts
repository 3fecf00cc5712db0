/**
 * `npm run rekey`: recomputes match keys after the rules or the configuration changed (their
 * version differs), then applies what follows through the guard's locked writes: customers that
 * now share a key are joined, and customers a built-in rule now splits are split.
 */
import { sql } from 'drizzle-orm'
import { findBuiltInRule, type KeyRef } from '../core/blocklist.js'
import { type Database, selectRows, toSqlArray } from '../db/database.js'
import {
  type MatchKeyConfig,
  toEmailKey,
  toKeyVersion,
  toMatchKeys,
  toPhoneKey,
} from './match-keys.js'
import { type GuardDeps, regroupAround } from './shell.js'

/** What a re-key found, and (unless a dry run) did. */
export type RekeyReport = {
  keyVersion: string
  rowsRekeyed: number
  evidenceRekeyed: number
  /** Keys several customers now share: each joins them. */
  joins: number
  customersJoined: number
  /** Built-in-blocked keys held by customers of several rows: each may split them. */
  splitChecks: number
  customersSplit: number
  /** Operations the database refused (busy, unavailable) after their retries. */
  failed: number
}

const CHUNK = 5_000

type KeyRow = {
  id: number
  linkedId: number | null
  email: string | null
  phoneNumber: string | null
  emailKey: string | null
  phoneKey: string | null
}

const toRef = (kind: KeyRef['kind'], key: string | null): KeyRef | null =>
  key === null ? null : { kind, key }

// Text arrays carry no nulls on every driver: an empty string stands for one (no key is empty).
const orEmpty = (value: string | null) => value ?? ''

/** Re-keys every row and recorded pair keyed under another version, then joins and splits. */
export async function rekey(
  guard: GuardDeps,
  config: MatchKeyConfig,
  options: { dryRun: boolean; onProgress?: (line: string) => void },
): Promise<RekeyReport> {
  const { database } = guard
  const keyVersion = toKeyVersion(config)
  const report: RekeyReport = {
    keyVersion,
    rowsRekeyed: 0,
    evidenceRekeyed: 0,
    joins: 0,
    customersJoined: 0,
    splitChecks: 0,
    customersSplit: 0,
    failed: 0,
  }
  const builtInBlocked = new Map<string, KeyRef>()
  // For a dry run, which customers each new key would reach among the rows re-keyed.
  const customersByKey = new Map<string, { ref: KeyRef; customers: Set<number> }>()
  for (let after = 0; ; ) {
    const rows = await database.runRead((db) =>
      selectRows<KeyRow>(
        db,
        sql`select "id", "linkedId", "email", "phoneNumber", "emailKey", "phoneKey" from "Contact"
            where "id" > ${after} and "keyVersion" <> ${keyVersion} and "deletedAt" is null
            order by "id" limit ${CHUNK}`,
      ),
    )
    const last = rows.at(-1)
    if (last === undefined) break
    after = last.id
    const keyed = rows.map((row) => ({ ...row, next: toMatchKeys(row, config) }))
    for (const row of keyed) {
      for (const ref of [
        toRef('email', row.next.emailKey),
        toRef('phoneNumber', row.next.phoneKey),
      ]) {
        if (ref === null) continue
        const text = `${ref.kind}:${ref.key}`
        if (findBuiltInRule(ref) !== null) builtInBlocked.set(text, ref)
        else if (options.dryRun) {
          const entry = customersByKey.get(text) ?? { ref, customers: new Set<number>() }
          entry.customers.add(row.linkedId ?? row.id)
          customersByKey.set(text, entry)
        }
      }
    }
    report.rowsRekeyed += rows.length
    if (!options.dryRun) {
      await database.runBatch((db) => [
        db.execute(sql`
          update "Contact" as "row"
          set "emailKey" = nullif("new"."emailKey", ''), "phoneKey" = nullif("new"."phoneKey", ''),
              "keyVersion" = ${keyVersion}
          from unnest(
            ${toSqlArray(
              keyed.map((row) => row.id),
              'integer',
            )},
            ${toSqlArray(
              keyed.map((row) => orEmpty(row.next.emailKey)),
              'text',
            )},
            ${toSqlArray(
              keyed.map((row) => orEmpty(row.next.phoneKey)),
              'text',
            )}
          ) as "new"("id", "emailKey", "phoneKey")
          where "row"."id" = "new"."id"`),
      ])
    }
    options.onProgress?.(`re-keyed ${report.rowsRekeyed} rows`)
  }
  report.evidenceRekeyed = await rekeyEvidence(database, config, options.dryRun)

  // Joins: keys that rows of several customers share. A dry run has not written the keys, so it
  // counts, among the rows it re-keyed, the customers each new key would reach (a lower bound:
  // rows keyed already and request pairs are not counted); a run reads them from the table.
  if (options.dryRun) {
    for (const { customers } of customersByKey.values()) {
      if (customers.size < 2) continue
      report.joins++
      report.customersJoined += customers.size - 1
    }
  } else {
    for (const ref of await readSharedKeys(database)) {
      if (findBuiltInRule(ref) !== null) continue
      report.joins++
      const result = await regroupAround(guard, ref, 'join', { requestId: 'rekey' })
      if (!result.ok) report.failed++
      else
        report.customersJoined += result.regroup.merges.reduce((n, m) => n + m.absorbed.length, 0)
    }
  }
  for (const ref of builtInBlocked.values()) {
    report.splitChecks++
    const result = await regroupAround(guard, ref, 'split', {
      dryRun: options.dryRun,
      requestId: 'rekey',
    })
    if (!result.ok) report.failed++
    else report.customersSplit += result.regroup.splits.length
  }
  return report
}

// Live keys held by rows of more than one customer.
async function readSharedKeys(database: Database): Promise<KeyRef[]> {
  return database.runRead((db) =>
    selectRows<KeyRef>(
      db,
      sql`select 'email' as "kind", "emailKey" as "key" from "Contact"
          where "deletedAt" is null and "emailKey" is not null
          group by "emailKey" having count(distinct coalesce("linkedId", "id")) > 1
          union all
          select 'phoneNumber', "phoneKey" from "Contact"
          where "deletedAt" is null and "phoneKey" is not null
          group by "phoneKey" having count(distinct coalesce("linkedId", "id")) > 1`,
    ),
  )
}

// The ledger's request pairs keep their values as sent, so their keys are recomputed from them.
async function rekeyEvidence(
  database: Database,
  config: MatchKeyConfig,
  dryRun: boolean,
): Promise<number> {
  type PairRow = {
    id: number
    email: string | null
    phoneNumber: string | null
    emailKey: string | null
    phoneKey: string | null
  }
  let changed = 0
  for (let after = 0; ; ) {
    const rows = await database.runRead((db) =>
      selectRows<PairRow>(
        db,
        sql`select "id"::integer as "id", "evidenceEmail" as "email", "evidencePhoneNumber" as "phoneNumber",
              "evidenceEmailKey" as "emailKey", "evidencePhoneKey" as "phoneKey"
            from "ContactEvent"
            where "id" > ${after} and ("evidenceEmail" is not null or "evidencePhoneNumber" is not null)
            order by "id" limit ${CHUNK}`,
      ),
    )
    const last = rows.at(-1)
    if (last === undefined) break
    after = last.id
    const stale = rows
      .map((row) => ({
        id: row.id,
        emailKey: row.email === null ? null : toEmailKey(row.email, config),
        phoneKey: row.phoneNumber === null ? null : toPhoneKey(row.phoneNumber, config),
        was: row,
      }))
      .filter((row) => row.emailKey !== row.was.emailKey || row.phoneKey !== row.was.phoneKey)
    changed += stale.length
    if (dryRun || stale.length === 0) continue
    await database.runBatch((db) => [
      db.execute(sql`
        update "ContactEvent" as "event"
        set "evidenceEmailKey" = nullif("new"."emailKey", ''), "evidencePhoneKey" = nullif("new"."phoneKey", '')
        from unnest(
          ${toSqlArray(
            stale.map((row) => row.id),
            'integer',
          )},
          ${toSqlArray(
            stale.map((row) => orEmpty(row.emailKey)),
            'text',
          )},
          ${toSqlArray(
            stale.map((row) => orEmpty(row.phoneKey)),
            'text',
          )}
        ) as "new"("id", "emailKey", "phoneKey")
        where "event"."id" = "new"."id"`),
    ])
  }
  return changed
}
