/**
 * One autocannon measurement in a process of its own, for `Bench.http`: argv[2] is JSON
 * `{ url, duration, headers }`. Runs one second of warm-up (the generator's own code is cold in
 * a fresh process), prints a line `measuring`, runs for `duration` seconds and prints
 * `{ rps, p99, requests, non2xx, errors }` as one JSON line.
 */
import autocannon, { type Result } from "autocannon"

const { url, duration, headers } = JSON.parse(process.argv[2]!) as {
  url: string
  duration: number
  headers: Record<string, string>
}
const run = (seconds: number) =>
  new Promise<Result>((resolve, reject) =>
    autocannon({ url, connections: 50, duration: seconds, headers }, (error, result) =>
      error ? reject(error) : resolve(result)
    )
  )

await run(1)
console.log("measuring")
const result = await run(duration)
const { non2xx, errors } = result
console.log(
  JSON.stringify({
    rps: result.requests.average,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx,
    errors
  })
)
