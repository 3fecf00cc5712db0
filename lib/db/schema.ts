import { sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  bigint,
  check,
  customType,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core'
import { BLOCK_REASONS } from '../core/blocklist.js'
import { IDENTIFIER_KINDS, LINK_PRECEDENCES } from '../core/contact.js'
import { EVENT_KINDS } from '../core/ledger.js'

/** The key version of rows keyed by their values as stored, before match keys existed. */
export const LEGACY_KEY_VERSION = 'legacy'

/** The `LinkPrecedence` enum type: a row's role in its customer. */
export const linkPrecedence = pgEnum('LinkPrecedence', LINK_PRECEDENCES)

// Millisecond precision, so a timestamp survives the round trip through a JS Date unchanged and
// the linking core orders rows exactly as the database does.
const timestampMs = (name: string) => timestamp(name, { precision: 3, withTimezone: true })

/**
 * One sighting of a customer's contact details. Names are the task statement's, which operators'
 * SQL and dashboards rely on; the database enforces the shape the linking rules maintain.
 */
export const contact = pgTable(
  'Contact',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    phoneNumber: text('phoneNumber'),
    email: text('email'),
    linkedId: integer('linkedId').references((): AnyPgColumn => contact.id),
    linkPrecedence: linkPrecedence('linkPrecedence').notNull(),
    createdAt: timestampMs('createdAt').notNull().defaultNow(),
    updatedAt: timestampMs('updatedAt').notNull().defaultNow(),
    deletedAt: timestampMs('deletedAt'),
    // What linking compares (lib/guard/match-keys.ts), and the version of the rules that made
    // them. A row inserted without keys (by an older service, or by hand) is keyed by its values
    // as stored, under the version `legacy`, by the trigger contact_fill_keys (drizzle/0007).
    emailKey: text('emailKey'),
    phoneKey: text('phoneKey'),
    keyVersion: text('keyVersion').notNull().default(LEGACY_KEY_VERSION),
  },
  (table) => [
    check(
      'Contact_has_identifier',
      sql`${table.email} is not null or ${table.phoneNumber} is not null`,
    ),
    check(
      'Contact_primary_iff_unlinked',
      sql`(${table.linkPrecedence} = 'primary') = (${table.linkedId} is null)`,
    ),
    check('Contact_not_linked_to_itself', sql`${table.linkedId} <> ${table.id}`),
    // Every lookup the service makes is among live rows: by match key, or by link. Each index
    // matches its lookup's predicate exactly, so it is the only sensible plan even on a young
    // table with no statistics yet; a full link index once lost there to a scan of a whole
    // identifier index filtering on deletedAt (tests/explain.integration.test.ts).
    index('Contact_emailKey_live_idx').on(table.emailKey).where(sql`${table.deletedAt} is null`),
    index('Contact_phoneKey_live_idx').on(table.phoneKey).where(sql`${table.deletedAt} is null`),
    index('Contact_linkedId_live_idx').on(table.linkedId).where(sql`${table.deletedAt} is null`),
  ],
)

// A full transaction id (PostgreSQL 13+): unlike a sequence value, it tells the feed which
// transactions may still be running, so events are published only once none before them can
// still commit (lib/ledger/feed.ts).
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' })

/**
 * The evidence ledger: append-only, one row per change the service made to the graph, written in
 * the same transaction as the change (lib/core/ledger.ts says which). The published payload is
 * ids and kinds; `evidenceEmail`/`evidencePhoneNumber` keep the pair of identifiers that joined
 * two customers, which only the admin API shows.
 */
export const contactEvent = pgTable(
  'ContactEvent',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
    kind: text('kind', { enum: EVENT_KINDS }).notNull(),
    primaryId: integer('primaryId').notNull(),
    contactIds: integer('contactIds').array().notNull(),
    absorbedIds: integer('absorbedIds').array().notNull(),
    joinedBy: text('joinedBy', { enum: ['email', 'phoneNumber', 'both'] }),
    evidenceEmail: text('evidenceEmail'),
    evidencePhoneNumber: text('evidencePhoneNumber'),
    // Their match keys, by which a split finds the pairs that still hold a customer together.
    evidenceEmailKey: text('evidenceEmailKey'),
    evidencePhoneKey: text('evidencePhoneKey'),
    requestId: text('requestId'),
    createdAt: timestampMs('createdAt').notNull(),
  },
  (table) => [
    // The feed's order: by transaction, then by id within it.
    index('ContactEvent_feed_idx').on(table.txid, table.id),
    // The evidence that holds a customer together, found by its match keys.
    index('ContactEvent_evidenceEmailKey_idx')
      .on(table.evidenceEmailKey)
      .where(sql`${table.evidenceEmailKey} is not null`),
    index('ContactEvent_evidencePhoneKey_idx')
      .on(table.evidencePhoneKey)
      .where(sql`${table.evidencePhoneKey} is not null`),
  ],
)

/**
 * Where webhook delivery stands, one row per receiver: the feed cursor of the last event it
 * acknowledged, the failures in a row and when to try again, and the lease of whichever deliverer
 * (a cron run, `npm start`'s loop) is delivering now, so two never deliver at once.
 */
export const webhookDelivery = pgTable('WebhookDelivery', {
  name: text('name').primaryKey(),
  cursor: text('cursor').notNull(),
  failures: integer('failures').notNull().default(0),
  nextAttemptAt: timestampMs('nextAttemptAt'),
  leaseOwner: text('leaseOwner'),
  leaseUntil: timestampMs('leaseUntil'),
  lastStatus: integer('lastStatus'),
  lastError: text('lastError'),
  updatedAt: timestampMs('updatedAt').notNull().defaultNow(),
})

/**
 * The store's blocklist: values that never link anything, by match key. `store` entries are the
 * store's own (admin API, `npm run block`); `auto` ones are quarantined shared values. The
 * built-in rules (lib/core/blocklist.ts) are code, not rows.
 */
export const blockedIdentifier = pgTable(
  'BlockedIdentifier',
  {
    kind: text('kind', { enum: IDENTIFIER_KINDS }).notNull(),
    key: text('key').notNull(),
    /** The value as it was blocked, for people to read. */
    value: text('value').notNull(),
    reason: text('reason', { enum: BLOCK_REASONS }).notNull(),
    createdAt: timestampMs('createdAt').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.kind, table.key] })],
)

/**
 * What erasure keeps of an erased value: a keyed hash of its match key (ERASURE_KEY), so that
 * `npm run rekey` and a backfill of old orders can tell it was erased without holding it.
 */
export const erasedIdentifier = pgTable(
  'ErasedIdentifier',
  {
    kind: text('kind', { enum: IDENTIFIER_KINDS }).notNull(),
    keyHash: text('keyHash').notNull(),
    erasedAt: timestampMs('erasedAt').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.kind, table.keyHash] })],
)
