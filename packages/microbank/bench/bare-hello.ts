/**
 * Bare node:http answering a small JSON document on PORT, for `npm run bench:http`. A file, not
 * `node -e`: the same server run with `-e` answered ~25% slower from its second 5-second run on
 * (64 000 instead of 85 000 req/s, measured 2026-11-22), which made the benchmark's ratios
 * look better than they are.
 */
import { createServer } from "node:http"

createServer((_request, response) => {
  const body = JSON.stringify({ status: "ok" })
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  response.end(body)
}).listen(Number(process.env.PORT), "127.0.0.1")
