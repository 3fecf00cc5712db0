// A throwaway PostgreSQL cluster from the Debian packages installed on this machine
// (/usr/lib/postgresql/<version>), for what the embedded server cannot show: its binaries are
// built without LLVM, so only a distribution's build JIT-compiles statements. The cluster lives in
// a temporary folder, listens on a free port of 127.0.0.1 only, and is removed on stop.
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import {
  appendFile,
  chmod,
  chown,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

const DEBIAN_ROOT = '/usr/lib/postgresql'

/** Debian's binaries of one PostgreSQL major version, or why they cannot be used here. */
export type SystemPostgresInstall =
  | { ok: true; version: number; bin: string; lib: string; osUser: OsUser | null }
  | { ok: false; reason: string }

/** The OS account the server runs as when this process is root (initdb refuses root). */
type OsUser = { name: string; uid: number; gid: number }

/** A running cluster: a superuser URL of its `postgres` database, and how to stop it. */
export type SystemPostgres = {
  ok: true
  url: string
  version: number
  stop: () => Promise<void>
}

/** What a cluster needs: settings for postgresql.conf, and whether it must be able to JIT. */
export type SystemPostgresOptions = {
  settings?: Record<string, string>
  requireJit?: boolean
}

/**
 * Returns the newest Debian PostgreSQL on this machine that has initdb and pg_ctl, the libraries
 * `shared_preload_libraries` names and, with `requireJit`, llvmjit.so; otherwise why not.
 */
export async function findSystemPostgres(
  options: SystemPostgresOptions = {},
): Promise<SystemPostgresInstall> {
  const versions = existsSync(DEBIAN_ROOT)
    ? (await readdir(DEBIAN_ROOT))
        .map(Number)
        .filter((version) => Number.isInteger(version) && version > 0)
        .filter((version) =>
          ['initdb', 'pg_ctl'].every((tool) =>
            existsSync(join(DEBIAN_ROOT, String(version), 'bin', tool)),
          ),
        )
        .sort((a, b) => b - a)
    : []
  const version = versions[0]
  if (version === undefined) {
    return {
      ok: false,
      reason: `no Debian PostgreSQL server binaries (${DEBIAN_ROOT}/*/bin/initdb and pg_ctl): apt-get install postgresql`,
    }
  }
  const bin = join(DEBIAN_ROOT, String(version), 'bin')
  const lib = join(DEBIAN_ROOT, String(version), 'lib')
  const libraries = (options.settings?.shared_preload_libraries ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  if (options.requireJit === true) libraries.push('llvmjit')
  const missing = libraries.filter((name) => !existsSync(join(lib, `${name}.so`)))
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `PostgreSQL ${version} lacks ${missing.map((name) => `${lib}/${name}.so`).join(', ')}`,
    }
  }
  const osUser = process.getuid?.() === 0 ? await findOsUser('postgres') : null
  if (process.getuid?.() === 0 && osUser === null) {
    return { ok: false, reason: 'running as root, and there is no `postgres` OS user to run as' }
  }
  if (osUser !== null && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
    return { ok: false, reason: 'running as root, and runuser (util-linux) is missing' }
  }
  return { ok: true, version, bin, lib, osUser }
}

async function findOsUser(name: string): Promise<OsUser | null> {
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', name]),
      run('id', ['-g', name]),
    ])
    return { name, uid: Number(uid.trim()), gid: Number(gid.trim()) }
  } catch {
    return null
  }
}

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
async function findFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

// A postgresql.conf value as a quoted string, which every setting accepts.
const toConfValue = (value: string) => `'${value.replaceAll("'", "''")}'`

/**
 * Starts a private cluster of Debian's newest PostgreSQL with `settings` in its postgresql.conf
 * and returns a URL with a random password, or (not thrown) why this machine cannot run one. As
 * root, the server runs as the `postgres` OS user. A server that fails to start throws, with the
 * end of its log.
 */
export async function startSystemPostgres(
  options: SystemPostgresOptions = {},
): Promise<SystemPostgres | { ok: false; reason: string }> {
  const install = await findSystemPostgres(options)
  if (!install.ok) return install
  const { bin, osUser, version } = install
  const asServerUser = (tool: string, args: string[]) =>
    osUser === null
      ? run(join(bin, tool), args)
      : run('runuser', ['-u', osUser.name, '--', join(bin, tool), ...args])

  const root = await mkdtemp(join(tmpdir(), 'identity-system-pg-'))
  const data = join(root, 'data')
  const log = join(root, 'server.log')
  const passwordFile = join(root, 'password')
  const password = randomBytes(12).toString('hex')
  let isStarted = false
  const stopServer = () => asServerUser('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
  // If the process ends without calling stop (a crashed or filtered test run), the server and its
  // files must not outlive it.
  const stopOnExit = () => {
    const args = ['-D', data, '-m', 'immediate', 'stop']
    try {
      if (osUser === null) execFileSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' })
      else
        execFileSync('runuser', ['-u', osUser.name, '--', join(bin, 'pg_ctl'), ...args], {
          stdio: 'ignore',
        })
    } catch {}
    rmSync(root, { recursive: true, force: true })
  }
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
    if (osUser !== null) {
      for (const path of [root, passwordFile]) await chown(path, osUser.uid, osUser.gid)
    }
    await chmod(root, 0o700)
    await asServerUser('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ])
    await rm(passwordFile)
    const port = await findFreePort()
    const settings: Record<string, string> = {
      port: String(port),
      listen_addresses: '127.0.0.1',
      // Its socket stays in its own folder, away from the machine's own server's.
      unix_socket_directories: root,
      ...options.settings,
    }
    await appendFile(
      join(data, 'postgresql.conf'),
      `\n# identity-reconciliation harness\n${Object.entries(settings)
        .map(([key, value]) => `${key} = ${toConfValue(value)}`)
        .join('\n')}\n`,
    )
    process.once('exit', stopOnExit)
    isStarted = true
    await asServerUser('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start'])
    return {
      ok: true,
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      version,
      stop: async () => {
        process.off('exit', stopOnExit)
        try {
          await stopServer()
        } finally {
          await rm(root, { recursive: true, force: true })
        }
      },
    }
  } catch (error) {
    const tail = await readFile(log, 'utf8').then(
      (text) => text.split('\n').slice(-15).join('\n'),
      () => '',
    )
    if (isStarted) {
      process.off('exit', stopOnExit)
      await stopServer().catch(() => {})
    }
    await rm(root, { recursive: true, force: true })
    throw new Error(`PostgreSQL ${version} did not start${tail ? `:\n${tail}` : ''}`, {
      cause: error,
    })
  }
}
