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
