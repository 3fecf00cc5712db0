// What every figure is measured on, and the per-process counters Linux keeps in /proc.
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'

/** The machine, runtime and database a result was measured on. */
export type Machine = {
  cores: number
  cpuModel: string
  memoryGiB: number
  os: string
  node: string
  postgres: string
  postgresSettings: Record<string, string>
  date: string
}

/** Describes this machine; `postgresVersion` is the server's `select version()`. */
export function describeMachine(
  postgresVersion: string,
  postgresSettings: Record<string, string>,
): Machine {
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: postgresVersion,
    postgresSettings,
    date: new Date().toISOString(),
  }
}

/** One line naming the machine, for tables and the README. */
export function toMachineLine(machine: Machine): string {
  const postgres = machine.postgres.match(/^PostgreSQL [\d.]+/)?.[0] ?? machine.postgres
  return `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${postgres}, Node.js ${machine.node}, ${machine.date.slice(0, 10)}`
}

const TICKS_PER_SECOND = 100

function readStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

/** CPU time (user + system) a process has used, in ms; 0 when it is gone or not on Linux. */
export function readProcessCpuMs(pid: number): number {
  const fields = readStat(pid)
  if (fields === null) return 0
  // After the name: state(3) ppid(4) ... utime(14) stime(15), so indexes 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
}

/** CPU time of a process plus that of its children it has waited for (cutime, cstime), in ms. */
export function readProcessAndReapedCpuMs(pid: number): number {
  const fields = readStat(pid)
  if (fields === null) return 0
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0)
  return (ticks * 1000) / TICKS_PER_SECOND
}

/** Resident memory of a process, in bytes; 0 when unknown. */
export function readProcessRssBytes(pid: number): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)
    return match ? Number(match[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/**
 * CPU time of a process and all its direct children (a postmaster and its backends), in ms. A
 * child that exited (an autovacuum worker) moves its time into the parent's cutime and cstime,
 * which count here too, so the total never goes backwards.
 */
export function readProcessTreeCpuMs(rootPid: number): number {
  const root = readStat(rootPid)
  if (root === null) return 0
  // utime(14) stime(15) cutime(16) cstime(17), counted from field 3.
  let total =
    ((Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14])) * 1000) /
    TICKS_PER_SECOND
  let entries: string[] = []
  try {
    entries = readdirSync('/proc')
  } catch {
    return 0
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const fields = readStat(Number(entry))
    if (fields !== null && Number(fields[1]) === rootPid) total += readProcessCpuMs(Number(entry))
  }
  return total
}

/** CPU time the whole machine has spent busy (every core, every process), in ms. */
export function readMachineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    // cpu user nice system idle iowait irq softirq steal ...
    const [user, nice, system, , , irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>(
      (sum, n) => sum + (n ?? 0),
      0,
    )
    return (busy * 1000) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}
