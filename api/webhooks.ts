// Vercel function for GET /api/webhooks, which Vercel's cron calls (see vercel.json).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('webhooks')
