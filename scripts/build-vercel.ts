// `tsx scripts/build-vercel.ts`: builds the deployment into .vercel/output with `vercel build`,
// offline, exactly as Vercel's build step would (vercel.json's buildCommand migrates DATABASE_URL,
// then bundles the functions). tests/vercel-build.test.ts serves the built function, and
// `npm run bench` measures its cold start; `vercel deploy --prebuilt` could ship it.
//
// Vercel builds in a fresh checkout, and the build command rewrites api/ there
// (scripts/bundle-functions.ts); this builds in a copy of the project for the same reason, so the
// working tree is never touched.
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadDotEnv } from '../lib/platform/env.js'

loadDotEnv()
const root = fileURLToPath(new URL('..', import.meta.url))
const projectFile = join(root, '.vercel', 'project.json')
// What a fresh checkout would not have: installed packages (linked instead), git's and Vercel's
// own folders, the embedded database's files.
const NOT_COPIED = new Set(['node_modules', '.git', '.vercel', '.data', 'coverage'])

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
const checkout = mkdtempSync(join(tmpdir(), 'identity-vercel-checkout-'))
let status = 1
try {
  cpSync(root, checkout, {
    recursive: true,
    filter: (path) => !NOT_COPIED.has(relative(root, path).split(/[\\/]/)[0] ?? ''),
  })
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir')
  // The project's settings and any pulled environment (.env.*.local), not earlier outputs.
  cpSync(join(root, '.vercel'), join(checkout, '.vercel'), {
    recursive: true,
    filter: (path) => /^(|project\.json|\.env.*)$/.test(relative(join(root, '.vercel'), path)),
  })

  const vercel = join(root, 'node_modules', '.bin', 'vercel')
  const extra = process.argv.slice(2)
  // The output goes to the project's .vercel/output unless --output says otherwise.
  const output = extra.includes('--output') ? [] : ['--output', join(root, '.vercel', 'output')]
  const args = ['build', '--global-config', join(root, '.vercel', 'cli'), ...output, ...extra]
  const result = spawnSync(vercel, args, {
    cwd: checkout,
    env: { ...env, BUNDLE_FUNCTIONS_IN_PLACE: '1' },
    stdio: 'inherit',
  })
  if (result.error) throw result.error
  status = result.status ?? 1
} finally {
  rmSync(checkout, { recursive: true, force: true })
}
process.exit(status)
