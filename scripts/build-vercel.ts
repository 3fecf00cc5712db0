// `tsx scripts/build-vercel.ts`: builds the deployment into .vercel/output with `vercel build`,
// offline, exactly as Vercel's build step would (vercel.json's buildCommand migrates DATABASE_URL).
// tests/vercel-build.test.ts serves the built function; `vercel deploy --prebuilt` could ship it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

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
// Without DATABASE_URL the build migrates the embedded database under .data/; saying so
// explicitly is what lets vercel.json's buildCommand accept it (on Vercel it fails instead).
if (!env.DATABASE_URL?.trim() && !env.DATABASE_DRIVER?.trim()) {
  env.DATABASE_DRIVER = 'pglite'
  // PGlite creates its data directory but not the parents; .data/ is absent in a fresh clone.
  if (!env.PGLITE_DATA_DIR) mkdirSync(join(root, '.data'), { recursive: true })
}

// No --yes: with settings missing, vercel would go online to pull them; this fails instead. The
// CLI's own config (login, telemetry ids) stays in .vercel/cli, away from the developer's login.
const vercel = join(root, 'node_modules', '.bin', 'vercel')
const args = ['build', '--global-config', join(root, '.vercel', 'cli')]
const result = spawnSync(vercel, args, { cwd: root, env, stdio: 'inherit' })
if (result.error) throw result.error
process.exit(result.status ?? 1)
