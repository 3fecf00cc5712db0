// Starts a real PostgreSQL for the test run unless TEST_DATABASE_URL names one, and builds a
// template database from the committed migrations; each suite clones it (tests/support/database.ts).
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../harness/embedded-postgres.js'
import { openDatabase } from '../../lib/db/open.js'
import { readEnv } from '../../lib/platform/env.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the test server's maintenance database, for CREATE/DROP DATABASE. */
    adminUrl: string
    /** The database every test database is cloned from, migrated once. */
    templateDatabase: string
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
