/**
 * The backfill's staging tables, temporary to its session: the file's orders as they are read,
 * handed back sorted by the server, and the plan's rows, links and events, waiting to be moved
 * into place under the lock (docs/decisions/014-backfill.md). Nothing of them stays in the heap.
 */
import type pg from 'pg'
import type { BackfillOrder, BackfillPlan, PlannedOrder } from '../core/backfill.js'
import { findBuiltInRule } from '../core/blocklist.js'
import { copyRows, forEachCopiedRow } from './copy.js'

/** COPYs `orders` into the session's `backfill_orders` as they come; returns how many. */
export async function stageOrders(
  client: pg.ClientBase,
  orders: AsyncIterable<BackfillOrder>,
): Promise<number> {
  // `links`: whether the key may link. A built-in blocked value, held by any number of strangers,
  // never joins anything, so the read of the touched customers never starts from one.
  // Room for the staged file in memory before it spills (set before the session's first
  // temporary table, as PostgreSQL requires).
  await client.query(`set temp_buffers = '256MB'`)
  await client.query(
    `create temp table backfill_orders (line integer, at bigint, email text, phone_number text,
       email_key text, phone_key text, email_links boolean, phone_links boolean)`,
  )
  let count = 0
  await copyRows(
    client,
    `copy backfill_orders (line, at, email, phone_number, email_key, phone_key, email_links,
       phone_links) from stdin`,
    (async function* () {
      for await (const order of orders) {
        count++
        const { emailKey, phoneKey } = order
        yield [
          order.line,
          order.at,
          order.email,
          order.phoneNumber,
          emailKey,
          phoneKey,
          emailKey !== null && findBuiltInRule({ kind: 'email', key: emailKey }) === null,
          phoneKey !== null && findBuiltInRule({ kind: 'phoneNumber', key: phoneKey }) === null,
        ]
      }
    })(),
  )
  await client.query('analyze backfill_orders')
  return count
}

/** Calls `visit` with each staged order, by `createdAt`, then line: identify's order. */
export async function forEachSortedOrder(
  client: pg.ClientBase,
  visit: (order: PlannedOrder) => void,
): Promise<void> {
  await forEachCopiedRow(
    client,
    'copy (select line, at, email_key, phone_key from backfill_orders order by at, line) to stdout',
    ([line, at, emailKey, phoneKey]) =>
      visit({
        line: Number(line),
        at: Number(at),
        emailKey: emailKey ?? null,
        phoneKey: phoneKey ?? null,
      }),
  )
}

const array = (ids: readonly number[]) => `{${ids.join(',')}}`

/**
 * COPYs the plan's rows, links and events into staging tables (replacing those of an earlier
 * plan), with the plan's ids: they are shifted to the sequence's when moved into place.
 */
export async function stagePlan(client: pg.ClientBase, plan: BackfillPlan): Promise<void> {
  await client.query(
    `drop table if exists backfill_new_rows, backfill_links, backfill_events;
     create temp table backfill_new_rows (id integer, line integer, link integer, at bigint,
       has_email boolean, has_phone boolean);
     create temp table backfill_links (id integer, link integer);
     create temp table backfill_events (seq integer, kind text, primary_id integer,
       contact_ids integer[], absorbed_ids integer[], joined_by text, line integer,
       email_key text, phone_key text, at timestamptz)`,
  )
  await copyRows(
    client,
    'copy backfill_new_rows (id, line, link, at, has_email, has_phone) from stdin',
    (function* () {
      for (const row of plan.inserts.rows()) {
        yield [row.id, row.line, row.linkedId, row.at, row.hasEmail, row.hasPhone]
      }
    })(),
  )
  await copyRows(
    client,
    'copy backfill_links (id, link) from stdin',
    plan.relinks.map((relink) => [relink.id, relink.linkedId]),
  )
  await copyRows(
    client,
    `copy backfill_events (seq, kind, primary_id, contact_ids, absorbed_ids, joined_by, line,
       email_key, phone_key, at) from stdin`,
    (function* () {
      let seq = 0
      for (const event of plan.events.all()) {
        yield [
          seq++,
          event.kind,
          event.primaryId,
          array(event.contactIds),
          array(event.absorbedIds),
          event.joinedBy,
          event.evidence?.line ?? null,
          event.evidence?.emailKey ?? null,
          event.evidence?.phoneKey ?? null,
          event.at.toISOString(),
        ]
      }
    })(),
  )
  await client.query('analyze backfill_new_rows; analyze backfill_links; analyze backfill_events')
}
