// Vercel function for GET /api/explain (see lib/http/routes.ts).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('explain')
