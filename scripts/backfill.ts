// `npm run backfill -- FILE [--dry-run] [--strict] [--format csv|ndjson]`: loads past orders as
// identify would have linked them, in one transaction (README, "Backfill"). FILE `-` reads standard
// input. Exits 1 when the file cannot be read (or a line is bad under --strict), 2 on any other
// failure; either way nothing was written.
import { createReadStream, statSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import { Bar, Presets } from 'cli-progress'
import { BackfillInputError, type InputFormat } from '../lib/backfill/input.js'
import { formatReport } from '../lib/backfill/report.js'
import { type BackfillPhase, runBackfill } from '../lib/backfill/run.js'
import { describeError } from '../lib/db/errors.js'
import { toGuardConfig } from '../lib/guard/config.js'
import { loadDotEnv, readEnv } from '../lib/platform/env.js'

const USAGE = 'usage: npm run backfill -- FILE|- [--dry-run] [--strict] [--format csv|ndjson]'

function parseArgs(argv: string[]) {
  const flags = new Set(argv.filter((arg) => arg === '--dry-run' || arg === '--strict'))
  const formatAt = argv.indexOf('--format')
  const format = formatAt < 0 ? undefined : argv[formatAt + 1]
  const files = argv.filter(
    (arg, index) => !arg.startsWith('--') && (formatAt < 0 || index !== formatAt + 1),
  )
  const file = files[0]
  if (files.length !== 1 || file === undefined) throw new BackfillInputError(USAGE)
  if (format !== undefined && format !== 'csv' && format !== 'ndjson') {
    throw new BackfillInputError(`--format must be csv or ndjson\n${USAGE}`)
  }
  const byName: InputFormat | undefined = /\.(nd)?jsonl?$/i.test(file)
    ? 'ndjson'
    : /\.csv$/i.test(file)
      ? 'csv'
      : undefined
  return {
    file,
    dryRun: flags.has('--dry-run'),
    strict: flags.has('--strict'),
    format: (format as InputFormat | undefined) ?? byName ?? 'csv',
  }
}

const controller = new AbortController()
// Before the database is touched there is nothing to roll back: stop at once.
let isConnected = false
process.once('SIGINT', () => {
  console.error('\nInterrupted: rolling back, nothing will be written.')
  controller.abort()
  if (!isConnected) process.exit(130)
})

try {
  loadDotEnv()
  const args = parseArgs(process.argv.slice(2))
  const env = readEnv()
  if (env.DATABASE_URL === undefined) throw new Error('DATABASE_URL is required (a PostgreSQL URL)')
  const size = args.file === '-' ? 0 : statSync(args.file).size
  let bytes = 0
  // Counted as they pass, not by a 'data' listener: that would let the file flow away before
  // the backfill, which connects first, starts reading.
  const input = (args.file === '-' ? process.stdin : createReadStream(args.file)).pipe(
    new PassThrough({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length
        done(null, chunk)
      },
    }),
  )
  const bar = process.stderr.isTTY
    ? new Bar(
        {
          format: '{phase} [{bar}] {percentage}% | {lines} lines | {rate} lines/s | ETA {eta}s',
          stream: process.stderr,
        },
        Presets.shades_classic,
      )
    : null
  const started = performance.now()
  let lastPrinted = 0
  let lastPhase: BackfillPhase | undefined
  bar?.start(size || 1, 0, { phase: 'reading', lines: 0, rate: 0 })
  const report = await runBackfill({
    url: env.DATABASE_URL,
    input,
    format: args.format,
    dryRun: args.dryRun,
    strict: args.strict,
    guard: toGuardConfig(env),
    signal: controller.signal,
    onProgress: ({ phase, lines }) => {
      const elapsed = (performance.now() - started) / 1000
      const rate = Math.round(lines / Math.max(elapsed, 0.001))
      if (bar !== null) {
        bar.update(phase === 'reading' ? bytes : size || 1, { phase, lines, rate })
        if (phase === 'done') bar.stop()
      } else if (phase !== lastPhase || (phase === 'reading' && elapsed - lastPrinted >= 2)) {
        lastPrinted = elapsed
        console.error(
          `backfill: ${phase}, ${lines} lines, ${rate} lines/s, ${elapsed.toFixed(1)} s`,
        )
      }
      lastPhase = phase
      if (phase !== 'reading') isConnected = true
    },
  })
  bar?.stop()
  for (const line of formatReport(report)) console.log(line)
  console.log(JSON.stringify(report))
} catch (error) {
  if (error instanceof BackfillInputError) {
    console.error(`backfill refused: ${error.message}. Nothing was written.`)
    process.exitCode = 1
  } else if (controller.signal.aborted) {
    console.error('backfill interrupted. Nothing was written.')
    process.exitCode = 130
  } else {
    console.error(`backfill failed: ${JSON.stringify(describeError(error))}. Nothing was written.`)
    process.exitCode = 2
  }
}
