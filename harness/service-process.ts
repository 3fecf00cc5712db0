// Runs the service as its own process, exactly as `npm start` does, and keeps its log lines.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { findFreePort } from './embedded-postgres.js'

/** A running service: its base URL, every JSON line it logged, and a way to stop it. */
export type ServiceProcess = {
  url: string
  logs: Record<string, unknown>[]
  /** Everything it wrote to stderr, line by line, log lines included. */
  stderr: string[]
  pid: number
  stop: () => Promise<void>
}

const root = fileURLToPath(new URL('..', import.meta.url))

/** Starts `scripts/serve.ts` with `env` on a free port and waits until its health check passes. */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await findFreePort()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts'], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Record<string, unknown>[] = []
  const stderr: string[] = []
  // Log lines are JSON on either stream (errors go to stderr); anything else is kept as text.
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue
    createInterface({ input: stream }).on('line', (line) => {
      if (stream === child.stderr) stderr.push(line)
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        // Not a log line, e.g. a warning from Node.
      }
    })
  }
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`the service exited:\n${stderr.join('\n')}`)
    const healthy = await fetch(`${url}/api/health`).then(
      (response) => response.ok,
      () => false,
    )
    if (healthy) break
    if (tries > 300) throw new Error(`the service never became healthy:\n${stderr.join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    logs,
    stderr,
    pid: child.pid ?? 0,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}
