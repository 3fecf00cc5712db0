// Builds the staff console (console/) into public/console/: its page and stylesheet as they are,
// and its TypeScript bundled by esbuild with Cytoscape into one script. `npm start` builds it
// before serving, `npm run build:console` (and so Vercel's build command) on its own.
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Where the built console lives: Vercel serves it from outputDirectory, `npm start` from here. */
export const CONSOLE_OUTPUT = join(root, 'public', 'console')

/**
 * Builds the console into `outDir`. Every file is written under a temporary name and renamed, so
 * a server reading the folder (or a second build running at once, as parallel tests do) never
 * sees half a file.
 */
export async function buildConsole(outDir = CONSOLE_OUTPUT): Promise<void> {
  await mkdir(outDir, { recursive: true })
  const result = await build({
    entryPoints: [join(root, 'console', 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    write: false,
    outdir: outDir,
    entryNames: 'console',
    logLevel: 'silent',
  })
  const suffix = `.${process.pid}.${Date.now()}.tmp`
  const place = async (file: string, write: (path: string) => Promise<void>) => {
    const target = join(outDir, file)
    await write(target + suffix)
    await rename(target + suffix, target)
  }
  for (const output of result.outputFiles) {
    const name = output.path.slice(outDir.length + 1)
    await place(name, (path) => writeFile(path, output.contents))
  }
  for (const file of ['index.html', 'console.css']) {
    await place(file, (path) => copyFile(join(root, 'console', file), path))
  }
}
