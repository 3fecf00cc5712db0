import { defineConfig } from 'drizzle-kit'

// Only `drizzle-kit generate` uses this file; migrations are applied by `npm run db:migrate`, which
// picks the driver the same way the service does (lib/db/*.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './lib/db/schema.ts',
  out: './drizzle',
})
