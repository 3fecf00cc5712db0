/**
 * The backfill's statements, on one node-postgres client: what it reads (the customers the file's
 * keys touch, the blocklist, erasures, recorded pairs) and the set-based writes, each fed by COPY,
 * so a million orders cost a handful of statements (docs/decisions/014-backfill.md).
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { BackfillEvent, BackfillInsert } from '../core/backfill.js'
import type { KeyRef } from '../core/blocklist.js'
import type { ContactRow, MatchKeys } from '../core/contact.js'
import type { Relink } from '../core/regroup.js'

/** What the backfill reads before it plans. */
export type TableState = {
  rows: ContactRow[]
  blocked: Set<string>
  pairs: MatchKeys[]
  erased: Map<string, number>
  /** Above every id the table has used: the first id a planned row may take. */
  firstNewId: number
}

/** The lock over all clusters: every identify and guard write shares it (drizzle/0008). */
export const CLUSTERS_LOCK = `select pg_advisory_xact_lock(hashtext('Contact.clusters'), 0)`

// COPY's text format: backslash, tab and line breaks escaped; \N is null.
const field = (value: string | number | null): string =>
  value === null
    ? '\\N'
    : String(value).replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )

/** Streams `rows` into `copy` (a `COPY ... from stdin` statement) in text format. */
export async function copyRows(
  client: pg.ClientBase,
  copy: string,
  rows: Iterable<(string | number | null)[]>,
): Promise<void> {
  function* lines() {
    let chunk = ''
    for (const row of rows) {
      chunk += `${row.map(field).join('\t')}\n`
      if (chunk.length > 1 << 16) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk !== '') yield chunk
  }
  await pipeline(Readable.from(lines()), client.query(copyFrom(copy)))
}

/** Reads what the plan needs: the customers `keys` touch and the guard's state. */
export async function readTableState(
  client: pg.ClientBase,
  keys: Iterable<KeyRef>,
): Promise<TableState> {
  await client.query('create temp table backfill_keys (kind text, key text) on commit drop')
  await copyRows(
    client,
    'copy backfill_keys (kind, key) from stdin',
    (function* () {
      for (const ref of keys) yield [ref.kind, ref.key]
    })(),
  )
  await client.query('analyze backfill_keys')
  // Whole linked components, as identify's read takes them (lib/identify/cluster-read.ts): the
  // live rows holding a key, their ancestors, and every descendant of those. `union` stops cycles.
  const rows = await client.query<
    [number, string | null, string | null, string | null, string | null, number | null, number]
  >({
    rowMode: 'array',
    text: `
      with recursive
        anchors as (
          select c."id" from "Contact" c join backfill_keys k
            on k.kind = 'email' and c."emailKey" = k.key where c."deletedAt" is null
          union
          select c."id" from "Contact" c join backfill_keys k
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
      select "id", "email", "phoneNumber", "emailKey", "phoneKey", "linkedId",
        (extract(epoch from "createdAt") * 1000)::float8
      from "Contact" where "id" in (select "id" from members)`,
  })
  // One after another: a client runs one statement at a time anyway.
  const blocked = await client.query<{ kind: string; key: string }>(
    `select "kind", "key" from "BlockedIdentifier"`,
  )
  const pairs = await client.query<MatchKeys>(
    `select "evidenceEmailKey" as "emailKey", "evidencePhoneKey" as "phoneKey" from "ContactEvent"
     where "evidenceEmailKey" is not null and "evidencePhoneKey" is not null`,
  )
  const erased = await client.query<{ kind: string; keyHash: string; at: number }>(
    `select "kind", "keyHash", (extract(epoch from "erasedAt") * 1000)::float8 as "at" from "ErasedIdentifier"`,
  )
  const top = await client.query<{ id: number }>(
    `select coalesce(max("id"), 0)::integer as "id" from "Contact"`,
  )
  return {
    rows: rows.rows.map(([id, email, phoneNumber, emailKey, phoneKey, linkedId, at]) => ({
      id,
      email,
      phoneNumber,
      emailKey,
      phoneKey,
      linkedId,
      linkPrecedence: linkedId === null ? 'primary' : 'secondary',
      createdAt: new Date(at),
    })),
    blocked: new Set(blocked.rows.map((row) => `${row.kind}:${row.key}`)),
    pairs: pairs.rows,
    erased: new Map(erased.rows.map((row) => [`${row.kind}:${row.keyHash}`, row.at])),
    firstNewId: (top.rows[0]?.id ?? 0) + 1,
  }
}

/**
 * Takes `count` ids from the table's sequence at once, under the lock over all clusters (no other
 * writer inserts meanwhile); returns the first.
 */
export async function reserveIds(client: pg.ClientBase, count: number): Promise<number> {
  const sequence = `pg_get_serial_sequence('"Contact"', 'id')`
  const { rows } = await client.query<{ first: string }>(`select nextval(${sequence}) as "first"`)
  const first = Number(rows[0]?.first)
  if (count > 1) await client.query(`select setval(${sequence}, $1)`, [first + count - 1])
  return first
}

/** What the backfill writes, with the ids the database will hold. */
export type BackfillWrites = {
  inserts: BackfillInsert[]
  relinks: Relink[]
  quarantined: (KeyRef & { at: Date })[]
  events: BackfillEvent[]
  keyVersion: string
  requestId: string
  now: Date
}

const iso = (date: Date) => date.toISOString()
const array = (ids: readonly number[]) => `{${ids.join(',')}}`

/** Writes `writes` in the client's transaction: rows, links, quarantines, then the ledger. */
export async function writeBackfill(client: pg.ClientBase, writes: BackfillWrites): Promise<void> {
  const { keyVersion, requestId } = writes
  // Rows first (a row may link to one inserted with it: foreign keys are checked at the end of
  // the statement), then existing rows re-pointed, possibly at an inserted row.
  await copyRows(
    client,
    `copy "Contact" ("id", "email", "phoneNumber", "emailKey", "phoneKey", "keyVersion",
       "linkedId", "linkPrecedence", "createdAt", "updatedAt") from stdin`,
    (function* () {
      for (const row of writes.inserts) {
        const at = iso(row.createdAt)
        yield [
          row.id,
          row.email,
          row.phoneNumber,
          row.emailKey,
          row.phoneKey,
          keyVersion,
          row.linkedId,
          row.linkedId === null ? 'primary' : 'secondary',
          at,
          at,
        ]
      }
    })(),
  )
  if (writes.relinks.length > 0) {
    await client.query('create temp table backfill_links (id integer, link integer) on commit drop')
    await copyRows(
      client,
      'copy backfill_links (id, link) from stdin',
      writes.relinks.map((relink) => [relink.id, relink.linkedId]),
    )
    await client.query(
      `update "Contact" c set "linkedId" = l.link,
         "linkPrecedence" = (case when l.link is null then 'primary' else 'secondary' end)::"LinkPrecedence",
         "updatedAt" = $1
       from backfill_links l where c."id" = l.id`,
      [writes.now],
    )
  }
  if (writes.quarantined.length > 0) {
    await client.query(
      `insert into "BlockedIdentifier" ("kind", "key", "value", "reason", "createdAt")
       select kind, key, key, 'auto', at from unnest($1::text[], $2::text[], $3::timestamptz[]) as q(kind, key, at)
       on conflict do nothing`,
      [
        writes.quarantined.map((ref) => ref.kind),
        writes.quarantined.map((ref) => ref.key),
        writes.quarantined.map((ref) => ref.at),
      ],
    )
  }
  await copyRows(
    client,
    `copy "ContactEvent" ("kind", "primaryId", "contactIds", "absorbedIds", "joinedBy",
       "evidenceEmail", "evidencePhoneNumber", "evidenceEmailKey", "evidencePhoneKey",
       "requestId", "createdAt") from stdin`,
    (function* () {
      for (const event of writes.events) {
        yield [
          event.kind,
          event.primaryId,
          array(event.contactIds),
          array(event.absorbedIds),
          event.joinedBy,
          event.evidence?.email ?? null,
          event.evidence?.phoneNumber ?? null,
          event.evidence?.emailKey ?? null,
          event.evidence?.phoneKey ?? null,
          requestId,
          iso(event.at),
        ]
      }
    })(),
  )
}
