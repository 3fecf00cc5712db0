/**
 * Runs a Vercel function's CommonJS bundle through V8's code cache (docs/decisions/013-cold-start.md).
 *
 * A cold function spends most of its first 50 ms compiling: the bundle's top level when it loads,
 * then each function the first request reaches. The build (scripts/bundle-functions.ts) runs each
 * bundle once, sends it one request that changes nothing, and saves what V8 compiled beside the
 * bundle; a cold process then hands that to V8 instead of compiling again. V8 accepts the cache
 * only from the same V8 version, flags and source, and otherwise compiles as it would have: the
 * cache can make a start faster, never different.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'

/** What esbuild puts in place of `import.meta.url` in a bundle this module runs. */
export const BUNDLE_URL_NAME = '__bundleUrl'

/** A loaded bundle, and whether V8 took its code cache. */
export type LoadedBundle = {
  exports: Record<string, unknown>
  script: Script
  /** True when a cache was given and V8 used it; false when it was rejected or missing. */
  isCacheUsed: boolean
}

/** Compiles and runs the CommonJS bundle at `bundle`, with `cachedData` when there is one. */
export function runBundle(bundle: URL, cachedData?: Buffer): LoadedBundle {
  const filename = fileURLToPath(bundle)
  // Node's own CommonJS wrapper, plus the bundle's import.meta.url. The bundle is ASCII (esbuild's
  // charset), so Latin-1 reads it unchanged, and faster than UTF-8's checks.
  const source = `(function (exports, require, module, __filename, __dirname, ${BUNDLE_URL_NAME}) {${readFileSync(filename, 'latin1')}\n})`
  const script = new Script(source, { filename, ...(cachedData ? { cachedData } : {}) })
  const module = { exports: {} as Record<string, unknown> }
  const run = script.runInThisContext() as (...args: unknown[]) => void
  run(
    module.exports,
    createRequire(bundle),
    module,
    filename,
    fileURLToPath(new URL('.', bundle)),
    bundle.href,
  )
  return {
    exports: module.exports,
    script,
    isCacheUsed: cachedData !== undefined && !script.cachedDataRejected,
  }
}

/** Runs `bundle` with the code cache at `cache` when that file exists. */
export function runCachedBundle(bundle: URL, cache: URL): LoadedBundle {
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cache)
  } catch {
    // No cache (a build that could not write one): compile as usual.
  }
  return runBundle(bundle, cachedData)
}
