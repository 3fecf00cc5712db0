import { sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core'
import { LINK_PRECEDENCES } from '../core/contact.js'

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
    // Every lookup the service makes is among live rows: by identifier, or by link. Each index
    // matches its lookup's predicate exactly, so it is the only sensible plan even on a young
    // table with no statistics yet; a full link index once lost there to a scan of a whole
    // identifier index filtering on deletedAt (tests/explain.integration.test.ts).
    index('Contact_email_live_idx').on(table.email).where(sql`${table.deletedAt} is null`),
    index('Contact_phoneNumber_live_idx')
      .on(table.phoneNumber)
      .where(sql`${table.deletedAt} is null`),
    index('Contact_linkedId_live_idx').on(table.linkedId).where(sql`${table.deletedAt} is null`),
  ],
)
