/**
 * Checks the `Contact` table against the linking invariants (README, "Integrity"); ./repair.ts
 * fixes what the service's own rules can. Reports name rows and customers by id only: never an
 * email or a phone number.
 */
import { type SQL, sql } from 'drizzle-orm'
import { findBuiltInRule } from '../core/blocklist.js'
import { type Database, selectRows } from '../db/database.js'

/** The kinds of damage the checker finds. */
export type ViolationKind =
  | 'precedence-disagrees-with-link'
  | 'links-to-missing-row'
  | 'links-to-deleted-row'
  | 'links-to-secondary'
  | 'older-than-its-primary'
  | 'email-in-several-customers'
  | 'phone-in-several-customers'
  | 'no-identifier'

/** One finding: what is wrong and which rows show it. */
export type Violation = { kind: ViolationKind; rowIds: number[]; detail: string }

/** The checker's result. */
export type IntegrityReport = { liveRows: number; violations: Violation[] }

// The service repairs these by re-identifying the email and phone number of each row involved
// (./repair.ts): rule 3 merges customers sharing either, and rules 3 and 5 flatten chains and
// adopt orphans. The others need a person: the service never re-elects a primary or invents an
// identifier.
const REPAIRABLE: ReadonlySet<ViolationKind> = new Set<ViolationKind>([
  'links-to-missing-row',
  'links-to-deleted-row',
  'links-to-secondary',
  'email-in-several-customers',
  'phone-in-several-customers',
])

type Finding = { kind: ViolationKind; ids: string; detail: string; key?: string | null }

// A row's customer as the table states it: itself if primary, else what it links to.
const CHECKS: SQL[] = [
  sql`select 'precedence-disagrees-with-link' as kind, "id"::text as ids, '' as detail
      from "Contact" where "deletedAt" is null
      and ("linkPrecedence" = 'primary') is distinct from ("linkedId" is null)`,
  sql`select case when parent."id" is null then 'links-to-missing-row'
                  when parent."deletedAt" is not null then 'links-to-deleted-row'
                  else 'links-to-secondary' end as kind,
             child."id"::text as ids, 'links to ' || child."linkedId" as detail
      from "Contact" child left join "Contact" parent on parent."id" = child."linkedId"
      where child."deletedAt" is null and child."linkedId" is not null
      and (parent."id" is null or parent."deletedAt" is not null or parent."linkedId" is not null)`,
  sql`select 'older-than-its-primary' as kind, child."id"::text as ids, 'primary ' || parent."id" as detail
      from "Contact" child join "Contact" parent on parent."id" = child."linkedId"
      where child."deletedAt" is null and parent."deletedAt" is null and parent."linkedId" is null
      and (child."createdAt", child."id") < (parent."createdAt", parent."id")`,
  // By match key, except keys on the store's blocklist (and, in checkIntegrity, the built-in
  // rules'): a blocked value holds nothing together, so it may sit in any number of customers.
  ...(['email', 'phoneNumber'] as const).map((kind) => {
    const column = sql.identifier(kind === 'email' ? 'emailKey' : 'phoneKey')
    return sql`select ${kind === 'email' ? 'email-in-several-customers' : 'phone-in-several-customers'} as kind,
             string_agg("id"::text, ',' order by "id") as ids,
             'customers ' || string_agg(distinct coalesce("linkedId", "id")::text, ', ') as detail,
             ${column} as key
      from "Contact" where "deletedAt" is null and ${column} is not null
        and not exists (select from "BlockedIdentifier" where "kind" = ${kind} and "key" = ${column})
      group by ${column}
      having count(distinct coalesce("linkedId", "id")) > 1`
  }),
  sql`select 'no-identifier' as kind, "id"::text as ids, '' as detail
      from "Contact" where "deletedAt" is null and "email" is null and "phoneNumber" is null`,
]

/** Checks every live row; a report with no violations means the table is consistent. */
export async function checkIntegrity(database: Database): Promise<IntegrityReport> {
  const [count] = await selectRows<{ n: number | string }>(
    database.db,
    sql`select count(*) as n from "Contact" where "deletedAt" is null`,
  )
  const violations: Violation[] = []
  for (const check of CHECKS) {
    for (const finding of await selectRows<Finding>(database.db, check)) {
      const kind = finding.kind === 'email-in-several-customers' ? 'email' : 'phoneNumber'
      if (finding.key != null && findBuiltInRule({ kind, key: finding.key }) !== null) continue
      violations.push({
        kind: finding.kind,
        rowIds: finding.ids.split(',').map(Number),
        detail: finding.detail,
      })
    }
  }
  return { liveRows: Number(count?.n ?? 0), violations }
}

/** Whether a violation is one `repairIntegrity` (./repair.ts) can fix. */
export const isRepairable = (violation: Violation) => REPAIRABLE.has(violation.kind)
