/**
 * What the backfill reads of the live tables, on one node-postgres client (the customers the
 * staged orders' keys touch, the blocklist, erasures, recorded pairs), and how it tells whether
 * any of that changed since (docs/decisions/014-backfill.md).
 */
import type pg from 'pg'
import type { BackfillRow } from '../core/backfill.js'
import type { MatchKeys } from '../core/contact.js'
import { forEachCopiedRow } from './copy.js'

/** What the backfill reads before it plans. */
export type TableState = {
  rows: BackfillRow[]
  blocked: Set<string>
  pairs: MatchKeys[]
  erased: Map<string, number>
  /** Above every id the table and its sequence have used: the first id a planned row takes. */
  firstNewId: number
  /** What the re-check under the lock compares with (`hasChangedSince`). */
  mark: ChangeMark
}

/** The read's snapshot: its oldest running transaction, and the guard tables' fingerprints. */
export type ChangeMark = { xmin: string; guard: string }

/** The lock over all clusters: every identify and guard write shares it (drizzle/0008). */
export const CLUSTERS_LOCK = `select pg_advisory_xact_lock(hashtext('Contact.clusters'), 0)`

// The blocklist and the erasures, in one line: small tables, compared whole.
const GUARD_FINGERPRINT = `select
  (select count(*) || ':' || coalesce(md5(string_agg("kind" || ':' || "key" || ':' || "reason", ','
     order by "kind", "key")), '') from "BlockedIdentifier") || '/' ||
  (select count(*) || ':' || coalesce(md5(string_agg("kind" || ':' || "keyHash" || ':' || "erasedAt",
     ',' order by "kind", "keyHash")), '') from "ErasedIdentifier") as "guard"`

/**
 * Reads what the plan needs, for the keys of `backfill_orders` that may link, and leaves in the
 * session `backfill_touched` (the ids read) and `backfill_watched` (their keys and the file's).
 */
export async function readTableState(client: pg.ClientBase): Promise<TableState> {
  await client.query(
    `drop table if exists backfill_touched, backfill_watched;
     create temp table backfill_watched as
       select distinct 'email' as kind, email_key as key from backfill_orders where email_links
       union select 'phoneNumber', phone_key from backfill_orders where phone_links;
     analyze backfill_watched`,
  )
  // Whole linked components, as identify's read takes them (lib/identify/cluster-read.ts): the
  // live rows holding a key, their ancestors, and every descendant of those. `union` stops cycles.
  await client.query(
    `create temp table backfill_touched as
     with recursive
       anchors as (
         select c."id" from "Contact" c join backfill_watched k
           on k.kind = 'email' and c."emailKey" = k.key where c."deletedAt" is null
         union
         select c."id" from "Contact" c join backfill_watched k
           on k.kind = 'phoneNumber' and c."phoneKey" = k.key where c."deletedAt" is null),
       ancestors as (
         select c."id", c."linkedId" from "Contact" c where c."id" in (select "id" from anchors)
         union
         select p."id", p."linkedId" from ancestors a
         join "Contact" p on p."id" = a."linkedId" and p."deletedAt" is null),
       members as (
         select "id" from ancestors
         union
         select c."id" from members m
         join "Contact" c on c."linkedId" = m."id" and c."deletedAt" is null)
     select "id" from members;
     analyze backfill_touched`,
  )
  const rows: BackfillRow[] = []
  await forEachCopiedRow(
    client,
    `copy (select c."id", c."emailKey", c."phoneKey", c."linkedId",
       (extract(epoch from c."createdAt") * 1000)::bigint
     from "Contact" c join backfill_touched t on t."id" = c."id") to stdout`,
    ([id, emailKey, phoneKey, linkedId, at]) =>
      rows.push({
        id: Number(id),
        emailKey: emailKey ?? null,
        phoneKey: phoneKey ?? null,
        linkedId: linkedId === null || linkedId === undefined ? null : Number(linkedId),
        at: Number(at),
      }),
  )
  // The touched rows' keys are watched too: a pair naming one can split them in a quarantine.
  await client.query(
    `insert into backfill_watched
       select 'email', c."emailKey" from "Contact" c join backfill_touched t on t."id" = c."id"
       where c."emailKey" is not null
       union select 'phoneNumber', c."phoneKey" from "Contact" c join backfill_touched t
         on t."id" = c."id" where c."phoneKey" is not null
       except select kind, key from backfill_watched;
     create index on backfill_watched (kind, key); analyze backfill_watched`,
  )
  const blocked = await client.query<{ kind: string; key: string }>(
    `select "kind", "key" from "BlockedIdentifier"`,
  )
  const pairs = await client.query<MatchKeys>(
    `select "evidenceEmailKey" as "emailKey", "evidencePhoneKey" as "phoneKey" from "ContactEvent" e
     where "evidenceEmailKey" is not null and "evidencePhoneKey" is not null and (
       exists (select 1 from backfill_watched w where w.kind = 'email' and w.key = e."evidenceEmailKey")
       or exists (select 1 from backfill_watched w
         where w.kind = 'phoneNumber' and w.key = e."evidencePhoneKey"))`,
  )
  const erased = await client.query<{ kind: string; keyHash: string; at: number }>(
    `select "kind", "keyHash", (extract(epoch from "erasedAt") * 1000)::float8 as "at" from "ErasedIdentifier"`,
  )
  const top = await client.query<{ id: number; xmin: string; guard: string }>(
    // The sequence may be past the table (ids burnt by rolled-back inserts): the plan numbers its
    // rows from where the sequence stands, so they usually keep their ids when placed.
    `select greatest(coalesce(max("id"), 0),
         coalesce(pg_sequence_last_value(pg_get_serial_sequence('"Contact"', 'id')::regclass), 0))::integer as "id",
       (pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text as "xmin",
       (${GUARD_FINGERPRINT}) as "guard"
     from "Contact"`,
  )
  const [{ id, xmin, guard }] = top.rows as [{ id: number; xmin: string; guard: string }]
  return {
    rows,
    blocked: new Set(blocked.rows.map((row) => `${row.kind}:${row.key}`)),
    pairs: pairs.rows,
    erased: new Map(erased.rows.map((row) => [`${row.kind}:${row.keyHash}`, row.at])),
    firstNewId: id + 1,
    mark: { xmin, guard },
  }
}

/**
 * Whether anything the plan read may have changed since `mark`: a row written since its snapshot
 * (by a transaction at or after its oldest running one, so possibly a false alarm, never a miss)
 * that is a touched row, points at one, or holds a watched key; a recorded pair naming a watched
 * key; or any change to the blocklist or the erasures. Call it holding the lock over all clusters.
 */
export async function hasChangedSince(client: pg.ClientBase, mark: ChangeMark): Promise<boolean> {
  // The rows this transaction placed before the lock are its own, not a change.
  const own = await client.query<{ xid: string | null }>(
    `select (pg_current_xact_id_if_assigned()::text::bigint % 4294967296)::text as "xid"`,
  )
  const { rows } = await client.query<{ changed: boolean }>(
    `select exists (
         select 1 from "Contact" c where age(c.xmin) <= age($1::xid) and c.xmin::text <> $3 and (
           c."id" in (select "id" from backfill_touched)
           or c."linkedId" in (select "id" from backfill_touched)
           or exists (select 1 from backfill_watched w where w.kind = 'email' and w.key = c."emailKey")
           or exists (select 1 from backfill_watched w
             where w.kind = 'phoneNumber' and w.key = c."phoneKey")))
       or exists (
         select 1 from "ContactEvent" e where age(e.xmin) <= age($1::xid) and e.xmin::text <> $3 and (
           exists (select 1 from backfill_watched w
             where w.kind = 'email' and w.key = e."evidenceEmailKey")
           or exists (select 1 from backfill_watched w
             where w.kind = 'phoneNumber' and w.key = e."evidencePhoneKey")))
       or (${GUARD_FINGERPRINT}) <> $2 as "changed"`,
    [mark.xmin, mark.guard, own.rows[0]?.xid ?? ''],
  )
  return rows[0]?.changed !== false
}
