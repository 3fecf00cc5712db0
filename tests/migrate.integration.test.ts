// `npm run db:migrate` is all or nothing, and concurrent deployments may run it at once.
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { openDatabase } from '../lib/db/open.js'
import { readEnv } from '../lib/platform/env.js'
import { createServerDatabase, SERVER_DRIVERS } from './support/database.js'

// The committed migrations, each of which must be recorded exactly once.
const { entries: MIGRATIONS } = JSON.parse(
  readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8'),
) as { entries: { tag: string; when: number }[] }

describe.each(SERVER_DRIVERS)('through the %s driver', (driver) => {
  let server: { url: string; drop: () => Promise<void> }
  let client: pg.Client
  beforeEach(async () => {
    server = await createServerDatabase()
    client = new pg.Client({ connectionString: server.url })
    await client.connect()
    // The template is already migrated; start from an empty database instead.
    await client.query(
      'drop schema public cascade; create schema public; drop schema if exists drizzle cascade',
    )
  })
  afterEach(async () => {
    await client.end()
    await server.drop()
  })

  const open = () =>
    openDatabase(
      readEnv({
        DATABASE_URL: server.url,
        DATABASE_DRIVER: driver,
        // The Neon driver's own endpoint is never used: migrations go over TCP.
        NEON_HTTP_ENDPOINT: 'http://127.0.0.1:1/sql',
      }),
    )
  const tables = async () =>
    (
      await client.query(
        `select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      )
    ).rows

  test('a migration that fails part-way leaves nothing behind, and a later run completes', async () => {
    // Something already holds a name the second migration creates, so it fails after the first
    // migration's statements ran.
    await client.query(
      'create function contact_assert_cluster_version(expected text, actual text) returns void language sql as $$ select $$',
    )
    const database = await open()
    await expect(database.migrate()).rejects.toThrow()
    expect(await tables()).toEqual([])

    await client.query('drop function contact_assert_cluster_version(text, text)')
    await database.migrate()
    expect(await tables()).toEqual([
      { table_name: 'BlockedIdentifier' },
      { table_name: 'Contact' },
      { table_name: 'ContactEvent' },
      { table_name: 'ErasedIdentifier' },
      { table_name: 'WebhookDelivery' },
    ])
    await database.close()
  })

  test('two deployments migrating at once both succeed, one after the other', async () => {
    const [first, second] = [await open(), await open()]
    await Promise.all([first.migrate(), second.migrate()])
    const { rows } = await client.query(
      'select count(*)::int as n from drizzle.__drizzle_migrations',
    )
    expect(rows).toEqual([{ n: MIGRATIONS.length }])
    await Promise.all([first.close(), second.close()])
  })
})

// Back to the state before 0007 (the guard), which later tests' rewinds start from.
const UNDO_GUARD = `
  drop table "BlockedIdentifier";
  drop table "ErasedIdentifier";
  drop trigger "Contact_fill_keys" on "Contact";
  drop function contact_fill_keys();
  drop function contact_assert_linkable(text, text);
  alter table "Contact" drop column "emailKey", drop column "phoneKey", drop column "keyVersion";
  create index "Contact_email_live_idx" on "Contact" ("email") where "deletedAt" is null;
  create index "Contact_phoneNumber_live_idx" on "Contact" ("phoneNumber") where "deletedAt" is null;`

test('migration 0002 rebuilds a live link index that a failed concurrent build left invalid', async () => {
  const server = await createServerDatabase()
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  try {
    // Back to the state before 0002, with the index an operator's cancelled
    // CREATE INDEX CONCURRENTLY leaves behind: present, but marked invalid, so no query uses it.
    const since = MIGRATIONS.find(({ tag }) => tag === '0002_live_link_index')?.when
    if (since === undefined) throw new Error('migration 0002 is not in the journal')
    await client.query(`
      ${UNDO_GUARD}
      drop table "WebhookDelivery";
      drop table "ContactEvent";
      drop function contact_try_lock_cluster(text[], integer[]);
      drop function contact_lock_keys(text[], integer[]);
      drop index "Contact_linkedId_live_idx";
      create index "Contact_linkedId_idx" on "Contact" ("linkedId");
      create index "Contact_linkedId_live_idx" on "Contact" ("linkedId") where "deletedAt" is null;
      update pg_index set indisvalid = false where indexrelid = '"Contact_linkedId_live_idx"'::regclass;
      delete from drizzle.__drizzle_migrations where created_at >= ${since}`)
    const database = await openDatabase(
      readEnv({ DATABASE_URL: server.url, DATABASE_DRIVER: 'node-postgres' }),
    )
    await database.migrate()
    await database.close()

    const { rows } = await client.query(`
      select
        (select indisvalid from pg_index
          where indexrelid = to_regclass('"Contact_linkedId_live_idx"')) as "isLiveIndexValid",
        to_regclass('"Contact_linkedId_idx"') is null as "isOldIndexGone"`)
    expect(rows).toEqual([{ isLiveIndexValid: true, isOldIndexGone: true }])
  } finally {
    await client.end()
    await server.drop()
  }
})

test('migration 0005 fixes the link estimate of a table analysed before it', async () => {
  const server = await createServerDatabase()
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  try {
    // Back to the state before 0005 (and the ledger after it), with statistics that say every
    // link points at one row.
    const since = MIGRATIONS.find(({ tag }) => tag === '0005_link_estimate')?.when
    if (since === undefined) throw new Error('migration 0005 is not in the journal')
    await client.query(`
      ${UNDO_GUARD}
      drop table "WebhookDelivery";
      drop table "ContactEvent";
      alter table "Contact" alter column "linkedId" reset (n_distinct);
      insert into "Contact" ("email", "linkPrecedence") values ('p@x.io', 'primary');
      insert into "Contact" ("email", "linkedId", "linkPrecedence")
      select 's' || n || '@x.io', 1, 'secondary' from generate_series(1, 1000) n;
      analyze "Contact";
      delete from drizzle.__drizzle_migrations where created_at >= ${since}`)
    const estimate = async () =>
      (
        await client.query(
          `select n_distinct from pg_stats where tablename = 'Contact' and attname = 'linkedId'`,
        )
      ).rows
    expect(await estimate()).toEqual([{ n_distinct: 1 }])
    const database = await openDatabase(
      readEnv({ DATABASE_URL: server.url, DATABASE_DRIVER: 'node-postgres' }),
    )
    await database.migrate()
    await database.close()

    expect(await estimate()).toEqual([{ n_distinct: -0.5 }])
  } finally {
    await client.end()
    await server.drop()
  }
})
