// Fresh databases on a real PostgreSQL server, for tests, `npm run stress` and `npm run bench`:
// empty and migrated from drizzle/, or cloned from a database migrated once (a template).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { migrateOverTcp } from '../lib/db/migrate.js'

/** Runs `work` with a client on `url`, closing it afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** A database created for one run; `drop` removes it, even with connections still open. */
export type FreshDatabase = { name: string; url: string; drop: () => Promise<void> }

/**
 * Creates a database on the server at `adminUrl` (a superuser URL): a clone of `template` when
 * given, otherwise empty with the committed migrations applied. Its name is `name`, replacing any
 * database of that name, or `prefix` with a random suffix.
 */
export async function createFreshDatabase(
  adminUrl: string,
  options: { name?: string; prefix?: string; template?: string },
): Promise<FreshDatabase> {
  const name = options.name ?? `${options.prefix ?? 'identity'}_${randomBytes(6).toString('hex')}`
  const drop = () =>
    withClient(adminUrl, async (client) => {
      await client.query(`drop database if exists ${name} with (force)`)
    })
  if (options.name !== undefined) await drop()
  await withClient(adminUrl, async (client) => {
    const template = options.template === undefined ? '' : ` template ${options.template}`
    await client.query(`create database ${name}${template}`)
  })
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  if (options.template === undefined) await migrateOverTcp(url.toString())
  return { name, url: url.toString(), drop }
}
