/**
 * pg's password hashing (its lib/crypto/utils.js) over node:crypto's synchronous functions. pg's
 * own goes through Web Crypto, whose first use loads Node's whole Web Crypto layer: about 4 ms of
 * a cold function's first connection. The Vercel functions are bundled with this in its place
 * (scripts/bundle-functions.ts); the exports and what they resolve to are pg's, for pg's pinned
 * version, and the bundled function's tests log in with SCRAM through it.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes as randomBytesSync } from 'node:crypto'

const toBuffer = (data: ArrayBuffer | ArrayBufferView | string) =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data)

// pg reads what these resolve to as ArrayBuffers (Buffer.from(...), new Uint8Array(...)).
const toArrayBuffer = (buffer: Buffer): ArrayBuffer =>
  buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer

export function randomBytes(length: number): Buffer {
  return randomBytesSync(length)
}

export async function md5(text: string | Buffer): Promise<string> {
  return createHash('md5').update(text).digest('hex')
}

export async function postgresMd5PasswordHash(
  user: string,
  password: string,
  salt: Buffer,
): Promise<string> {
  const inner = await md5(password + user)
  return `md5${await md5(Buffer.concat([Buffer.from(inner), salt]))}`
}

export async function sha256(data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer> {
  return toArrayBuffer(createHash('sha256').update(toBuffer(data)).digest())
}

/** `hashName` as Web Crypto spells it (SHA-256, SHA-384, ...), for SCRAM's channel binding. */
export async function hashByName(
  hashName: string,
  data: ArrayBuffer | ArrayBufferView,
): Promise<ArrayBuffer> {
  return toArrayBuffer(
    createHash(hashName.replace('-', '').toLowerCase()).update(toBuffer(data)).digest(),
  )
}

export async function hmacSha256(
  key: ArrayBuffer | ArrayBufferView,
  message: string,
): Promise<ArrayBuffer> {
  return toArrayBuffer(createHmac('sha256', toBuffer(key)).update(message, 'utf8').digest())
}

export async function deriveKey(
  password: string,
  salt: ArrayBuffer | ArrayBufferView,
  iterations: number,
): Promise<ArrayBuffer> {
  return toArrayBuffer(pbkdf2Sync(password, toBuffer(salt), iterations, 32, 'sha256'))
}
