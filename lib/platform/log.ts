/** Structured logging: one JSON object a line, never an email or phone number in clear. */

/** A log line's fields; callers keep personal data out of them. */
export type LogFields = Record<string, unknown>

/** Where log lines go; tests pass their own to capture them. */
export type Logger = { info(fields: LogFields): void; error(fields: LogFields): void }

/** Writes JSON lines to stdout and stderr, which Vercel and most hosts collect. */
export const consoleLogger: Logger = {
  info: (fields) => console.log(JSON.stringify({ level: 'info', ...fields })),
  error: (fields) => console.error(JSON.stringify({ level: 'error', ...fields })),
}

/**
 * Returns a logger for a long-running server (`npm start`): the same lines as `consoleLogger`,
 * but the info lines of one event-loop turn go out in one write, after the answers of that turn.
 * Writing to a file or a pipe blocks, so one write per request line cost a system call each.
 * Error lines go out at once. What is buffered is written when the process exits, however it
 * exits short of being killed.
 */
export function createBatchingLogger(write: (text: string) => void): Logger {
  let pending = ''
  let isScheduled = false
  const flush = () => {
    isScheduled = false
    if (pending === '') return
    const text = pending
    pending = ''
    write(text)
  }
  process.on('exit', flush)
  return {
    info: (fields) => {
      pending += `${JSON.stringify({ level: 'info', ...fields })}\n`
      if (!isScheduled) {
        isScheduled = true
        setImmediate(flush)
      }
    },
    error: consoleLogger.error,
  }
}
