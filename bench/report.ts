// The bench's result file and its Markdown rendering: the cold start, one table of runs, then the
// headline ratios.
import type { ColdStart } from './cold-start.js'
import { type Machine, toMachineLine } from './machine.js'
import type { MergeCost } from './merge-cost.js'
import type { ProfileSummary } from './profile.js'
import type { RunResult } from './runners.js'
import { round } from './stats.js'
import { EXPECTED_OUTCOME, MIX, REQUEST_KINDS } from './workload.js'

/** Everything one `npm run bench` measured, as written to bench/results/. */
export type BenchResult = {
  command: string
  mode: 'full' | 'quick'
  machine: Machine
  config: Record<string, unknown>
  loads: { rows: number; seconds: number; customers: number }[]
  runs: (RunResult & { rows: number })[]
  mergeCost: MergeCost | null
  profile: (ProfileSummary & { throughput: number }) | null
  /** Per scale, the merges that could not join two of the store's untouched customers. */
  mergeReserve: { rows: number; laterGeneration: number; ofCreated: number }[]
  /** The built identify function's cold start; null with --no-cold-start. */
  coldStart: ColdStart | null
}

/** The headline figures: the limit ratio of the mix at 16, growth in latency, the merge slope. */
export function toHeadlines(result: BenchResult) {
  const largest = Math.max(...result.runs.map((run) => run.rows))
  const smallest = Math.min(...result.runs.map((run) => run.rows))
  const find = (path: RunResult['path'], rows: number, concurrency: number) =>
    result.runs.find(
      (run) =>
        run.path === path &&
        run.rows === rows &&
        run.kind === 'mix' &&
        run.concurrency === concurrency,
    )
  const service16 = find('service', largest, 16)
  const limit16 = find('limit', largest, 16)
  const growth = [1, 16].flatMap((concurrency) => {
    const small = find('service', smallest, concurrency)
    const large = find('service', largest, concurrency)
    if (small === undefined || large === undefined || smallest === largest) return []
    return [
      {
        concurrency,
        fromRows: smallest,
        toRows: largest,
        p50Ratio: round(large.latencyMs.p50 / small.latencyMs.p50),
        meanRatio: round(large.latencyMs.mean / small.latencyMs.mean),
      },
    ]
  })
  return {
    limitRatioMix16:
      service16 && limit16 ? round(service16.throughput / limit16.throughput, 3) : null,
    growth,
    mergeSlopeMsPerRow: result.mergeCost?.slopeMsPerRow ?? null,
    mergeExponent: result.mergeCost?.exponent ?? null,
  }
}

// Load from other processes above this (in cores) is reported under the table.
const SHARED_CORES = 0.2

const fmt = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? 'n/a' : value.toFixed(digits)
const count = (value: number) =>
  Number.isInteger(Math.log10(value)) ? `10^${Math.log10(value)}` : String(value)

/** Renders the result as Markdown: the machine, the runs table, growth, merge cost and profile. */
export function toMarkdown(result: BenchResult): string {
  const headlines = toHeadlines(result)
  const lines: string[] = []
  lines.push(`Measured on ${toMachineLine(result.machine)}; \`${result.command}\`.`, '')
  lines.push(...toColdStartLines(result.coldStart))
  if (result.runs.length === 0) return `${lines.join('\n')}\n`
  lines.push(
    '| rows | kind | conc. | service req/s | limit req/s | service / limit | p50 ms | p95 ms | p99 ms | statements / req | retries / req | outcome as expected | service CPU ms / req | Postgres CPU ms / req | service RSS MiB | other load, cores |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  )
  const order = (run: RunResult & { rows: number }) =>
    [run.rows, REQUEST_KINDS.indexOf(run.kind), run.concurrency] as const
  const services = result.runs
    .filter((run) => run.path === 'service')
    .sort((a, b) => {
      const [x, y] = [order(a), order(b)]
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
    })
  for (const service of services) {
    const limit = result.runs.find(
      (run) =>
        run.path === 'limit' &&
        run.rows === service.rows &&
        run.kind === service.kind &&
        run.concurrency === service.concurrency,
    )
    lines.push(
      `| ${count(service.rows)} | ${service.kind} | ${service.concurrency} | ${fmt(service.throughput, 0)} | ${fmt(limit?.throughput, 0)} | ${limit ? `${Math.round((100 * service.throughput) / limit.throughput)}%` : 'n/a'} | ${fmt(service.latencyMs.p50, 2)} | ${fmt(service.latencyMs.p95, 2)} | ${fmt(service.latencyMs.p99, 2)} | ${fmt(limit?.statementsPerRequest ?? service.statementsPerRequest, 2)} | ${fmt(service.retriesPerRequest, 3)} | ${toOutcomeShare(service)} | ${fmt(service.cpuMsPerRequest.service, 2)} | ${fmt(service.cpuMsPerRequest.postgres, 2)} | ${fmt(service.serviceRssMiB, 0)} | ${fmt(service.otherBusyCores, 2)} |`,
    )
  }
  lines.push('')
  const shared = result.runs.filter((run) => (run.otherBusyCores ?? 0) > SHARED_CORES).length
  if (shared > 0) {
    lines.push(
      `> Other processes kept more than ${SHARED_CORES} of a core busy during ${shared} of ${result.runs.length} runs: those figures understate the service and the limit alike.`,
      '',
    )
  }
  for (const { rows, laterGeneration, ofCreated } of result.mergeReserve) {
    if (laterGeneration + ofCreated === 0) continue
    lines.push(
      `> At ${rows} rows the store's untouched customers ran out: ${laterGeneration} merges joined customers merged before, ${ofCreated} joined two customers created by the run's own new requests.`,
      '',
    )
  }
  if (headlines.limitRatioMix16 !== null) {
    lines.push(
      `- **Limit ratio**, mix at concurrency 16: the service reaches **${Math.round(headlines.limitRatioMix16 * 100)}%** of the limit.`,
    )
  }
  for (const growth of headlines.growth) {
    lines.push(
      `- **Growth**, mix at concurrency ${growth.concurrency}: p50 latency at ${count(growth.toRows)} rows / at ${count(growth.fromRows)} rows = **${growth.p50Ratio}** (mean ${growth.meanRatio}).`,
    )
  }
  const merge = result.mergeCost
  if (merge !== null) {
    lines.push(
      `- **Merge cost**, two customers of k rows each (median of ${merge.pairsPerSize}): ${merge.sizes.map((size) => `k=${size.k}: ${size.medianMs} ms`).join(', ')}; fitted slope **${merge.slopeMsPerRow} ms per row** (R² ${merge.r2}), growth exponent ${merge.exponent} between the two largest k: ${merge.isAtMostLinear ? 'at most linear' : 'worse than linear'}.`,
    )
  }
  const profile = result.profile
  if (profile !== null) {
    const areas = profile.areas
      .slice(0, 8)
      .map((area) => `${area.area} ${area.percent}%`)
      .join(', ')
    lines.push(
      `- **Service CPU profile** (${String(result.config.profileKind ?? 'mix')} at 16, busy time by area): ${areas}.`,
    )
  }
  return `${lines.join('\n')}\n`
}

// The cold start of the function `vercel build` produced: one row per driver.
function toColdStartLines(coldStart: ColdStart | null): string[] {
  if (coldStart === null) return []
  const runs = coldStart.drivers[0]?.runs.length ?? 0
  return [
    `Cold start of \`${coldStart.function}\` as \`vercel build\` built it (${coldStart.sizeMb} MB in ${coldStart.files} files), median of ${runs} fresh Node.js processes, each answering one request; "once connected" is the request alone, in ${runs} more processes that send it after the function's connection has opened:`,
    '',
    '| driver | first request | import ms | import + first answer ms | every run, import + first answer ms | CPU ms, import to answer | first answer once connected ms (CPU) | size MB | other load, cores | load average |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...coldStart.drivers.map(
      (run) =>
        `| ${run.driver} | ${run.request} customer | ${fmt(run.importMs)} | ${fmt(run.firstAnswerMs)} | ${run.runs.map((each) => fmt(each.firstAnswerMs, 0)).join(', ')} | ${fmt(run.cpuMs)} | ${fmt(run.connectedAnswerMs)} (${fmt(run.connectedCpuMs)}) | ${fmt(coldStart.sizeMb, 2)} | ${fmt(coldStart.otherBusyCores, 2)} | ${fmt(coldStart.loadAverage, 2)} |`,
    ),
    '',
    ...toFloorLines(coldStart),
  ]
}

// The floor beside the function: what any function answering through the driver costs here.
function toFloorLines(coldStart: ColdStart): string[] {
  const withFloor = coldStart.drivers.filter((run) => run.floor != null)
  if (withFloor.length === 0) return []
  return [
    "The floor (`bench/cold-floor/`): a function that only loads the driver, connects as it loads and answers a returning customer with the same cluster read, in as many fresh processes, alternating with the function's:",
    '',
    '| driver | floor: import ms | floor: import + first answer ms | every run ms | floor CPU ms | the function: import + first answer ms | above the floor ms |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: |',
    ...withFloor.map((run) => {
      const floor = run.floor as NonNullable<typeof run.floor>
      return `| ${run.driver} | ${fmt(floor.importMs)} | ${fmt(floor.firstAnswerMs)} | ${floor.runs.map((ms) => fmt(ms, 0)).join(', ')} | ${fmt(floor.cpuMs)} | ${fmt(run.firstAnswerMs)} | ${fmt(run.firstAnswerMs - floor.firstAnswerMs)} |`
    }),
    '',
  ]
}

// The single kinds must produce their outcome every time; the mix is compared with its recipe.
function toOutcomeShare(run: RunResult): string {
  const total = Object.values(run.outcomes).reduce((sum, n) => sum + n, 0)
  if (total === 0) return 'n/a'
  if (run.kind === 'mix') {
    const share = (outcome: string) => Math.round((100 * (run.outcomes[outcome] ?? 0)) / total)
    return MIX.map(([kind]) => `${share(EXPECTED_OUTCOME[kind])}`).join('/')
  }
  return `${Math.round((100 * (run.outcomes[EXPECTED_OUTCOME[run.kind]] ?? 0)) / total)}%`
}
