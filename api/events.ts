// Vercel function for GET /api/events (see lib/http/routes.ts).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('events')
