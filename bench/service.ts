// The service under test, as its own process: exactly `npm start` (scripts/serve.ts) on
// node-postgres, its log lines kept in a file the bench reads between runs.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readProcessCpuMs, readProcessRssBytes } from './machine.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** A running service: its URL and pid, and how to read its log since the last look and stop it. */
export type Service = {
  url: string
  pid: number
  /** Headers every identify request sends: the content type, and an API key as production would. */
  headers: Record<string, string>
  /** Headers of an admin API request: the admin key, never identify's. */
  adminHeaders: Record<string, string>
  /** The identify and lookup log lines written since the previous call. */
  takeLogLines: () => IdentifyLogLine[]
  rssBytes: () => number
  cpuMs: () => number
  stop: () => Promise<void>
}

/** The fields of lib/identify/handler.ts's log line the bench reads. */
export type IdentifyLogLine = { status: number; outcome: string; attempts?: number }

/** Options of one service process. */
export type ServiceOptions = {
  databaseUrl: string
  poolSize: number
  port: number
  /** Extra Node.js flags, such as `--cpu-prof`. */
  nodeFlags?: string[]
  /** The server to start instead of `npm start`'s (bench/floor.ts), with its own environment. */
  script?: string
  env?: Record<string, string>
  cwd?: string
}

/**
 * Starts `tsx scripts/serve.ts` (as `node --import tsx`, so the pid is the server itself, not a
 * launcher) and resolves once `/api/health` answers 200.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const logDir = await mkdtemp(join(tmpdir(), 'identity-bench-log-'))
  const apiKey = randomBytes(24).toString('base64url')
  const adminKey = randomBytes(24).toString('base64url')
  const logPath = join(logDir, 'service.log')
  const out = openSync(logPath, 'w')
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      '--import',
      'tsx',
      options.script ?? join(ROOT, 'scripts', 'serve.ts'),
    ],
    {
      cwd: options.cwd ?? ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: options.databaseUrl,
        DATABASE_DRIVER: 'node-postgres',
        DATABASE_POOL_SIZE: String(options.poolSize),
        PORT: String(options.port),
        // Production requires keys, so the bench pays for checking one on every request.
        IDENTIFY_API_KEYS: apiKey,
        ADMIN_API_KEYS: adminKey,
        ...options.env,
      },
      stdio: ['ignore', out, 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const url = `http://127.0.0.1:${options.port}`
  await waitForHealth(url, exited, () => stderr)
  const pid = child.pid ?? 0

  let offset = 0
  let stopped: Promise<void> | undefined
  return {
    url,
    pid,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    adminHeaders: { authorization: `Bearer ${adminKey}` },
    takeLogLines: () => {
      const text = readFileSync(logPath).subarray(offset)
      const end = text.lastIndexOf(10) + 1
      offset += end
      return text
        .subarray(0, end)
        .toString('utf8')
        .split('\n')
        .filter((line) => line.includes('"msg":"identify"') || line.includes('"msg":"customers"'))
        .map((line) => JSON.parse(line) as IdentifyLogLine)
    },
    rssBytes: () => readProcessRssBytes(pid),
    cpuMs: () => readProcessCpuMs(pid),
    // Once, however often it is called.
    stop: () => {
      stopped ??= (async () => {
        child.kill('SIGTERM')
        await exited
        if (stderr.trim() !== '') process.stderr.write(`service stderr:\n${stderr}\n`)
        closeSync(out)
        await rm(logDir, { recursive: true, force: true })
      })()
      return stopped
    },
  }
}

async function waitForHealth(
  url: string,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<void> {
  let hasExited = false
  void exited.then(() => {
    hasExited = true
  })
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (hasExited) throw new Error(`The service exited before it was ready:\n${stderr()}`)
    try {
      const response = await fetch(`${url}/api/health`)
      if (response.status === 200) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`The service did not become healthy within 30 s:\n${stderr()}`)
}
