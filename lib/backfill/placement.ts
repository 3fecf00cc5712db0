/**
 * Moving a staged plan into the live tables, set-based: ids from the sequence, then the rows and
 * events (before the lock), then the links of existing rows and the quarantines (under it).
 */
import type pg from 'pg'
import type { KeyRef } from '../core/blocklist.js'

/**
 * Takes `count` ids from the table's sequence at once; returns the first. Call it holding the lock
 * over all clusters: every other insert takes its id under that lock, so none comes in between.
 */
export async function reserveIds(client: pg.ClientBase, count: number): Promise<number> {
  const { rows } = await client.query<{ first: string }>(`select nextval(${SEQUENCE}) as "first"`)
  const first = Number(rows[0]?.first)
  if (count > 1) await client.query(`select setval(${SEQUENCE}, $1)`, [first + count - 1])
  return first
}

const SEQUENCE = `pg_get_serial_sequence('"Contact"', 'id')`

/** How the staged plan is moved into place. */
export type Placement = {
  /** The plan's first new id, and the one the sequence handed out: ids from `planned` shift. */
  planned: number
  first: number
  /** How many rows the plan inserts. */
  count: number
  quarantined: (KeyRef & { at: Date })[]
  keyVersion: string
  requestId: string
  now: Date
}

// $1 is the plan's first new id, $2 the shift: planned ids move, existing ones stay.
const shift = (column: string) => `${column} + (case when ${column} >= $1 then $2 else 0 end)`
// An array of ids, shifted: rebuilt only when the ids moved at all (they mostly do not).
const shifted = (column: string) =>
  `case when $2 = 0 then ${column} else
     array(select ${shift('x')} from unnest(${column}) with ordinality as u(x, n) order by n) end`

/**
 * Inserts the staged rows and events, with the ids reserved for them. Runs before the lock: no
 * one else sees them until the commit, and no one else can take their ids.
 */
export async function insertStagedRows(client: pg.ClientBase, placement: Placement): Promise<void> {
  const ids = [placement.planned, placement.first - placement.planned]
  // A row may link to one inserted with it: foreign keys are checked at the end of the
  // statement. A value comes from the order's staged line unless the plan dropped it (erased).
  await client.query(
    `insert into "Contact" ("id", "email", "phoneNumber", "emailKey", "phoneKey", "keyVersion",
       "linkedId", "linkPrecedence", "createdAt", "updatedAt")
     select ${shift('n.id')}, case when n.has_email then o.email end,
       case when n.has_phone then o.phone_number end, case when n.has_email then o.email_key end,
       case when n.has_phone then o.phone_key end, $3, ${shift('n.link')},
       (case when n.link is null then 'primary' else 'secondary' end)::"LinkPrecedence",
       timestamptz 'epoch' + n.at * interval '1 millisecond',
       timestamptz 'epoch' + n.at * interval '1 millisecond'
     from backfill_new_rows n join backfill_orders o on o.line = n.line`,
    [...ids, placement.keyVersion],
  )
  // The feed orders events by transaction, then id (lib/ledger/feed.ts): written before the
  // lock, they still come after every event committed before this transaction commits.
  await client.query(
    `insert into "ContactEvent" ("kind", "primaryId", "contactIds", "absorbedIds", "joinedBy",
       "evidenceEmail", "evidencePhoneNumber", "evidenceEmailKey", "evidencePhoneKey",
       "requestId", "createdAt")
     select e.kind, ${shift('e.primary_id')}, ${shifted('e.contact_ids')},
       ${shifted('e.absorbed_ids')}, e.joined_by,
       case when e.email_key is not null then o.email end,
       case when e.phone_key is not null then o.phone_number end, e.email_key, e.phone_key, $3, e.at
     from backfill_events e left join backfill_orders o on o.line = e.line
     order by e.seq`,
    [...ids, placement.requestId],
  )
}

/** Re-points the existing rows the plan relinks, and records its quarantines: under the lock. */
export async function relinkStaged(client: pg.ClientBase, placement: Placement): Promise<void> {
  await client.query(
    `update "Contact" c set "linkedId" = ${shift('l.link')},
       "linkPrecedence" = (case when l.link is null then 'primary' else 'secondary' end)::"LinkPrecedence",
       "updatedAt" = $3
     from backfill_links l where c."id" = l.id`,
    [placement.planned, placement.first - placement.planned, placement.now],
  )
  if (placement.quarantined.length > 0) {
    await client.query(
      `insert into "BlockedIdentifier" ("kind", "key", "value", "reason", "createdAt")
       select kind, key, key, 'auto', at from unnest($1::text[], $2::text[], $3::timestamptz[]) as q(kind, key, at)
       on conflict do nothing`,
      [
        placement.quarantined.map((ref) => ref.kind),
        placement.quarantined.map((ref) => ref.key),
        placement.quarantined.map((ref) => ref.at),
      ],
    )
  }
}
