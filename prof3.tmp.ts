import { createReadStream } from 'node:fs'
import { parse } from 'csv-parse'
import * as v from 'valibot'
import { EmailSchema, PhoneNumberSchema } from './lib/identify/request.ts'
let t = performance.now()
let n = 0
for await (const r of createReadStream('/tmp/o100k.csv').pipe(parse({ bom: true }))) n++
console.log('csv noinfo', n, performance.now() - t)
t = performance.now()
n = 0
const p = createReadStream('/tmp/o100k.csv').pipe(parse({ bom: true, info: true }))
for await (const r of p) n++
console.log('csv info', n, performance.now() - t)
t = performance.now()
for (let i = 0; i < 100000; i++) { v.safeParse(EmailSchema, `customer${i % 40000}@shop.example`); v.safeParse(PhoneNumberSchema, `${4150000000 + i}`) }
console.log('fields', performance.now() - t)
