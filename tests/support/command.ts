// Runs one of the project's scripts as an operator would (`npx tsx scripts/<name>.ts`), against
// the database at `databaseUrl`, and returns its exit code and output, failing or not.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

/** What a script run printed, and how it exited. */
export type CommandResult = { code: number; stdout: string; stderr: string }

/** Runs `scripts/<script>.ts` with `args`, `DATABASE_URL` set to `databaseUrl`. */
export function runScript(
  script: string,
  args: readonly string[],
  databaseUrl: string,
): Promise<CommandResult> {
  return promisify(execFile)('npx', ['tsx', `scripts/${script}.ts`, ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: CommandResult) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  )
}
