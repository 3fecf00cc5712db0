// Vercel function for GET /api/openapi.json (see lib/http/routes.ts).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('openapi')
