// A real Chromium for the console's end-to-end tests: Debian's package, driven by playwright-core
// (Playwright's own browser download cannot be reached here). .ci/run installs it when missing,
// and so does the test run itself where it can (`ensureChromium`, from tests/support/global-setup.ts).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser; CHROMIUM_PATH names another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// Headless, as root in CI, and quiet on a machine without internet: no background requests to
// Google's hosts, which the closed network refuses many at a time.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Installs Debian's `chromium` when the default path has none and this process may (root, with
 * apt-get), so that `npm install && npm test` passes on a fresh machine of this kind as it is.
 * Anywhere else it leaves the machine alone, and `launchBrowser` says what to install.
 */
export function ensureChromium(): void {
  const isRoot = process.getuid?.() === 0
  if (existsSync(CHROMIUM_PATH) || process.env.CHROMIUM_PATH !== undefined || !isRoot) return
  if (!existsSync('/usr/bin/apt-get')) return
  process.stderr.write('Installing Debian chromium for the console browser tests (apt-get)\n')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env })
  spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'ignore', env })
}

/** Starts Chromium; Playwright gives each launch a new, empty profile of its own. */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`,
    )
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS })
}

/**
 * Collects what the page threw or logged as an error, but for the browser's own line about a
 * failed request: a refused key is a 401 the console handles, and Chromium logs it all the same.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      errors.push(message.text())
    }
  })
  return errors
}
