import { createReadStream } from 'node:fs'
import { parse } from 'csv-parse'
import { parseIdentifyRequest } from './lib/identify/request.ts'
import { toMatchKeys, DEFAULT_MATCH_KEYS } from './lib/guard/match-keys.ts'
let t = performance.now()
let n = 0
for await (const r of createReadStream('/tmp/o100k.csv').pipe(parse({ bom: true, info: true, relax_column_count: true }))) n++
console.log('csv', n, performance.now() - t)
t = performance.now()
for (let i = 0; i < 100000; i++) parseIdentifyRequest({ email: `customer${i % 40000}@shop.example`, phoneNumber: `${4150000000 + i}` })
console.log('parse', performance.now() - t)
t = performance.now()
for (let i = 0; i < 100000; i++) toMatchKeys({ email: `customer${i % 40000}@shop.example`, phoneNumber: `${4150000000 + i}` }, DEFAULT_MATCH_KEYS)
console.log('keys', performance.now() - t)
t = performance.now()
for (let i = 0; i < 100000; i++) toMatchKeys({ email: `customer${i % 40000}@shop.example`, phoneNumber: `+1415555${i%10000}` }, DEFAULT_MATCH_KEYS)
console.log('keys+', performance.now() - t)
