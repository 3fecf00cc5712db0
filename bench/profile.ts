// Where the service's CPU goes: a V8 CPU profile (`node --cpu-prof`) summarised by self time, per
// function and per area (a package, a lib/ module, Node's internals, the garbage collector).
import { readFileSync } from 'node:fs'

type ProfileNode = {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
type CpuProfile = {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Self time as a share of the busy (non-idle) time, for the hottest functions and areas. */
export type ProfileSummary = {
  busyMs: number
  idleMs: number
  areas: { area: string; percent: number }[]
  functions: { fn: string; area: string; percent: number }[]
}

const toArea = (url: string, functionName: string): string => {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const modules = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/)
  if (modules?.[1] !== undefined) return modules[1]
  const own = url.match(/\/((lib|scripts|api)\/[^/]+)$/)
  if (own?.[1] !== undefined) return own[1]
  const internal = url.match(/^node:(internal\/)?([^/]+)/)
  if (internal?.[2] !== undefined) return `node:${internal[2]}`
  return url
}

/**
 * Summarises the profile at `path`, counting only samples inside `window` (microseconds of the
 * monotonic clock `process.hrtime` reads): the `top` hottest functions and every area above 0.5%.
 */
export function summarizeProfile(
  path: string,
  window: { fromUs: number; toUs: number },
  top = 15,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfByFunction = new Map<string, { area: string; us: number }>()
  let idleUs = 0
  let busyUs = 0
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    at += us
    if (at < window.fromUs || at > window.toUs) return
    const frame = nodes.get(id)?.callFrame
    if (frame === undefined) return
    if (frame.functionName === '(idle)') {
      idleUs += us
      return
    }
    busyUs += us
    const area = toArea(frame.url, frame.functionName)
    const file = frame.url.split('/').at(-1) ?? ''
    const fn = `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${frame.lineNumber + 1}` : ''}`
    const entry = selfByFunction.get(fn) ?? { area, us: 0 }
    entry.us += us
    selfByFunction.set(fn, entry)
  })
  const percent = (us: number) => Math.round((us / Math.max(busyUs, 1)) * 1000) / 10
  const byArea = new Map<string, number>()
  for (const { area, us } of selfByFunction.values()) byArea.set(area, (byArea.get(area) ?? 0) + us)
  return {
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    areas: [...byArea]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, percent: percent(us) }))
      .filter((entry) => entry.percent >= 0.5),
    functions: [...selfByFunction]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([fn, { area, us }]) => ({ fn, area, percent: percent(us) })),
  }
}
