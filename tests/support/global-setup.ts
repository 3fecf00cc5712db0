// Starts a real PostgreSQL for the test run unless TEST_DATABASE_URL names one, and builds a
// template database from the committed migrations; each suite clones it (tests/support/database.ts).
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../harness/embedded-postgres.js'
import { createFreshDatabase } from '../../harness/fresh-database.js'
import { ensureChromium } from './browser.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the test server's maintenance database, for CREATE/DROP DATABASE. */
    adminUrl: string
    /** The database every test database is cloned from, migrated once. */
    templateDatabase: string
  }
}

export async function setup(project: TestProject) {
  ensureChromium()
  const external = process.env.TEST_DATABASE_URL
  const server = external ? { url: external, stop: async () => {} } : await startEmbeddedPostgres()
  const templateDatabase = `identity_template_${process.pid}`

  const template = await createFreshDatabase(server.url, { name: templateDatabase })

  project.provide('adminUrl', server.url)
  project.provide('templateDatabase', templateDatabase)

  return async () => {
    if (external) await template.drop()
    await server.stop()
  }
}
