// lib/db/pg-crypto.ts stands in for pg's own password hashing in the Vercel functions: for the
// same input it must give exactly what pg's gives, or a bundled function could not log in.
import { createRequire } from 'node:module'
import { describe, expect, test } from 'vitest'
import * as ours from '../lib/db/pg-crypto.js'

type PgCrypto = typeof ours
const pgs = createRequire(import.meta.url)('pg/lib/crypto/utils.js') as PgCrypto

const bytes = (value: ArrayBuffer | Buffer) => Buffer.from(value as ArrayBuffer).toString('hex')
const SALT = Buffer.from('QSXCR+Q6sek8bf92', 'base64')

describe('pg-crypto', () => {
  test('every function pg uses is there', () => {
    expect(Object.keys(ours).sort()).toEqual(Object.keys(pgs).sort())
  })

  test('derives the SCRAM salted password as pg does', async () => {
    for (const [password, iterations] of [
      ['pencil', 4096],
      ['pässwörd', 4096],
      ['', 1],
    ] as const) {
      expect(bytes(await ours.deriveKey(password, SALT, iterations))).toBe(
        bytes(await pgs.deriveKey(password, SALT, iterations)),
      )
    }
  })

  test('signs, hashes and hashes by name as pg does', async () => {
    const key = await pgs.deriveKey('pencil', SALT, 4096)
    expect(bytes(await ours.hmacSha256(key, 'Client Key'))).toBe(
      bytes(await pgs.hmacSha256(key, 'Client Key')),
    )
    expect(bytes(await ours.sha256(key))).toBe(bytes(await pgs.sha256(key)))
    for (const name of ['SHA-256', 'SHA-384', 'SHA-512']) {
      expect(bytes(await ours.hashByName(name, Buffer.from('certificate')))).toBe(
        bytes(await pgs.hashByName(name, Buffer.from('certificate'))),
      )
    }
  })

  test('hashes an MD5 password as pg does', async () => {
    const salt = Buffer.from([1, 2, 3, 4])
    expect(await ours.postgresMd5PasswordHash('user', 'secret', salt)).toBe(
      await pgs.postgresMd5PasswordHash('user', 'secret', salt),
    )
  })

  test('gives random bytes of the length asked for', () => {
    const [a, b] = [ours.randomBytes(18), ours.randomBytes(18)]
    expect(a).toHaveLength(18)
    expect(a.equals(b)).toBe(false)
  })
})
