// `tsx scripts/build-vercel.ts`: builds the deployment into .vercel/output with `vercel build`,
// offline, exactly as Vercel's build step would (vercel.json's buildCommand migrates DATABASE_URL).
// tests/vercel-build.test.ts serves the built function; `vercel deploy --prebuilt` could ship it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadDotEnv } from '../lib/platform/env.js'

loadDotEnv()
const root = fileURLToPath(new URL('..', import.meta.url))
const projectFile = join(root, '.vercel', 'project.json')

// `vercel build` reads the project's settings from here; `vercel pull` writes the real ones. A
// placeholder stands in only when nothing is linked, so a real link is never overwritten.
if (!existsSync(projectFile)) {
  mkdirSync(join(root, '.vercel'), { recursive: true })
  const settings = {
    framework: null,
    // The dependencies are already installed; installing again would need the network.
    installCommand: '',
    buildCommand: null,
    outputDirectory: null,
    rootDirectory: null,
    devCommand: null,
  }
  const placeholder = { projectId: 'prj_local', orgId: 'team_local', settings }
  writeFileSync(projectFile, `${JSON.stringify(placeholder, null, 2)}\n`)
}

const env: NodeJS.ProcessEnv = {
  ...process.env,
  VERCEL_TELEMETRY_DISABLED: '1',
  NO_UPDATE_NOTIFIER: '1',
  // @vercel/node runs `npm install` before tracing each function unless told it already ran;
  // here it has, and a second install would touch node_modules (and the network).
  VERCEL_INSTALL_COMPLETED: '1',
}
// The build migrates DATABASE_URL, as on Vercel, where a missing one fails the deployment (in
// vercel.json's buildCommand, and lib/platform/env.ts under VERCEL=1, which `vercel build` also sets).
if (!env.DATABASE_URL?.trim()) {
  console.error('DATABASE_URL is not set: the build migrates it, as on Vercel')
  process.exit(1)
}

// No --yes: with settings missing, vercel would go online to pull them; this fails instead. The
// CLI's own config (login, telemetry ids) stays in .vercel/cli, away from the developer's login.
// Further arguments go to `vercel build`, e.g. `--output <dir>` instead of .vercel/output.
const vercel = join(root, 'node_modules', '.bin', 'vercel')
const args = ['build', '--global-config', join(root, '.vercel', 'cli'), ...process.argv.slice(2)]
const result = spawnSync(vercel, args, { cwd: root, env, stdio: 'inherit' })
if (result.error) throw result.error
process.exit(result.status ?? 1)
