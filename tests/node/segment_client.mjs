// Drives Segment's Node.js library (@segment/analytics-node, pinned by package-lock.json) against an idgraph
// API: `node segment_client.mjs <host> <write key> <calls JSON>`, where the calls are a list of
// `{"method": "identify" | "track" | "page" | "alias" | ..., "params": {...}}` made in order. Everything is
// flushed before exit; exit 1 (and the error on stderr) if the library reports any delivery error.
import { Analytics } from '@segment/analytics-node'

const [host, writeKey, callsJson] = process.argv.slice(2)
if (!host || !writeKey || !callsJson) {
  console.error('usage: node segment_client.mjs <host> <write key> <calls JSON>')
  process.exit(2)
}

const errors = []
const analytics = new Analytics({ writeKey, host, flushAt: 1, maxRetries: 0, httpRequestTimeout: 20000 })
analytics.on('error', (err) => errors.push(err))

for (const { method, params } of JSON.parse(callsJson)) {
  analytics[method](params)
}
await analytics.closeAndFlush({ timeout: 30000 })

if (errors.length) {
  for (const err of errors) console.error(err?.reason ?? err)
  process.exit(1)
}
console.log(JSON.stringify({ sent: JSON.parse(callsJson).length }))
