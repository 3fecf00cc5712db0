// How database failures are classified for retries and HTTP statuses (lib/db/errors.ts), on the
// shapes the drivers really produce: Drizzle's wrapper with the driver's error as its cause.
import { DrizzleQueryError } from 'drizzle-orm'
import { describe, expect, test } from 'vitest'
import { DeadlineExceededError } from '../lib/db/deadline.js'
import { classifyDatabaseError, describeError, describeFailure } from '../lib/db/errors.js'

// A driver error as node-postgres builds one: a message, and a SQLSTATE when the server sent one.
const driverError = (message: string, code?: string) =>
  Object.assign(new Error(message), code === undefined ? {} : { code })
const wrapped = (cause: Error) =>
  new DrizzleQueryError('select contact_lock_cluster($1)', ['email:secret@x.io'], cause)

describe('classifyDatabaseError', () => {
  test.each([
    ['the version check failed', 'conflict', driverError('cluster changed', '40001')],
    ['a deadlock was broken', 'conflict', driverError('deadlock detected', '40P01')],
    ['a lock wait timed out', 'busy', driverError('lock timeout', '55P03')],
    ['a statement timed out', 'busy', driverError('canceling statement', '57014')],
    ['the backend was terminated', 'unavailable', driverError('terminating connection', '57P01')],
    [
      'the connection was refused',
      'unavailable',
      driverError('connect ECONNREFUSED', 'ECONNREFUSED'),
    ],
    ['the connection dropped', 'unavailable', driverError('Connection terminated unexpectedly')],
    [
      'a rollback was sent on a dropped connection',
      'unavailable',
      driverError('Client has encountered a connection error and is not queryable'),
    ],
    [
      'a client was used after its release (a bug)',
      'unexpected',
      driverError('Client was closed and is not queryable'),
    ],
    ['a table is missing', 'unexpected', driverError('relation "Contact" does not exist', '42P01')],
    ['the request deadline passed', 'deadline', new DeadlineExceededError()],
    [
      "a Neon round trip aborted at the deadline, which Neon's driver reports as a connection error",
      'deadline',
      Object.assign(new Error('Error connecting to database: DeadlineExceededError'), {
        sourceError: new DeadlineExceededError(),
      }),
    ],
    [
      // A bug, not an outage: more than 65,535 bind parameters wrapped the protocol's count.
      'the server rejected a malformed message',
      'unexpected',
      driverError('bind message has 4465 parameter formats but 0 parameters', '08P01'),
    ],
    ['the connection failed', 'unavailable', driverError('connection failure', '08006')],
  ])('%s: %s', (_, failure, error) => {
    expect(classifyDatabaseError(wrapped(error))).toBe(failure)
  })
})

test('describeError keeps the driver message and code, not the query parameters', () => {
  const described = describeError(wrapped(driverError('lock timeout', '55P03')))
  expect(described).toEqual({
    name: 'Error <- Error',
    code: '55P03',
    message: 'lock timeout',
  })
  expect(JSON.stringify(described)).not.toContain('secret@x.io')
})

describe('describeFailure, for the request log line', () => {
  test.each([
    [
      'a lock wait timed out',
      driverError('lock timeout', '55P03'),
      { kind: 'busy', code: '55P03' },
    ],
    [
      'the connection was refused',
      driverError('connect ECONNREFUSED', 'ECONNREFUSED'),
      { kind: 'unavailable', code: 'ECONNREFUSED' },
    ],
    [
      'a dropped connection, with no code',
      driverError('Connection terminated unexpectedly'),
      { kind: 'unavailable' },
    ],
    [
      'a code that is not code-shaped is left out',
      driverError('odd', 'secret@x.io'),
      { kind: 'unexpected' },
    ],
  ])('%s', (_, error, cause) => {
    expect(describeFailure(wrapped(error))).toEqual(cause)
  })
})
