// `npm run build:console`: the staff console into public/console/ (see ./console-bundle.ts).
import { buildConsole, CONSOLE_OUTPUT } from './console-bundle.js'

await buildConsole()
console.log(JSON.stringify({ level: 'info', msg: 'console built', outDir: CONSOLE_OUTPUT }))
