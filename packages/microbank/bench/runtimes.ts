/**
 * `npm run bench:runtimes` — the same load against an all-Node stack and an all-Deno stack, in
 * one run (both stacks up side by side, measured alternately, medians reported):
 *
 *   - HTTP: `GET /api/me` through the gateway (JWT, rate limit, one call to users), autocannon
 *     with 50 connections for BENCH_DURATION seconds (default 10);
 *   - AMQP pipeline: BENCH_INGEST_N records (default 20 000) through the ingest API → RabbitMQ
 *     work queue → batching worker → PostgreSQL, records/s until the last one is stored;
 *   - Kafka pipeline: BENCH_PURCHASES_N purchases (default 3 000) through `POST /api/v1/buy`
 *     → topic `purchases` (kcat mock broker, one per stack) → consumer group → PostgreSQL.
 *
 * Prints each runtime's numbers and the Deno/Node ratios (target ≥ 0.8 each). BENCH_ROUNDS
 * (default 3). Needs PostgreSQL, RabbitMQ and kcat.
 */
import * as Bench from "./lib.ts"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const INGEST_N = Number(process.env.BENCH_INGEST_N ?? 20_000)
const PURCHASES_N = Number(process.env.BENCH_PURCHASES_N ?? 3_000)

type Runtime = "node" | "deno"
const measures = ["http", "amqp", "kafka"] as const
type Measure = (typeof measures)[number]
const units: Record<Measure, string> = { http: "req/s", amqp: "records/s", kafka: "purchases/s" }

const measure = async (bench: Bench.Bench, what: Measure): Promise<number> => {
  switch (what) {
    case "http":
      return Math.round(
        (
          await Bench.http("GET /api/me", `${bench.stack.gatewayUrl}/api/me`, DURATION, {
            authorization: `Bearer ${bench.token}`
          })
        ).rps
      )
    case "amqp":
      return Bench.ingestThroughGateway(bench, INGEST_N)
    case "kafka":
      return Bench.purchasesThroughGateway(bench, PURCHASES_N)
  }
}

const main = async () => {
  const stacks: Partial<Record<Runtime, Bench.Bench>> = {}
  try {
    for (const runtime of ["node", "deno"] as const) stacks[runtime] = await Bench.startStack({ runtime, kafka: true })
    const results: Record<Runtime, Record<Measure, Array<number>>> = {
      node: { http: [], amqp: [], kafka: [] },
      deno: { http: [], amqp: [], kafka: [] }
    }
    // Warm up both (JIT, connection pools, consumer group joins).
    for (const runtime of ["node", "deno"] as const) {
      const bench = stacks[runtime]!
      await Bench.ingestThroughGateway(bench, 1_000)
      await Bench.purchasesThroughGateway(bench, 200)
      await Bench.http("warm-up", `${bench.stack.gatewayUrl}/api/me`, 2, { authorization: `Bearer ${bench.token}` })
    }
    console.log(
      `node ${process.versions.node} vs deno (${ROUNDS} rounds; HTTP ${DURATION} s, ` +
        `${INGEST_N} records, ${PURCHASES_N} purchases per round)`
    )
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which runtime goes first, so neither always meets the other's leftovers.
      const order: ReadonlyArray<Runtime> = round % 2 === 1 ? ["node", "deno"] : ["deno", "node"]
      for (const what of measures) {
        for (const runtime of order) results[runtime][what].push(await measure(stacks[runtime]!, what))
      }
      console.log(
        `round ${round}: ` +
          measures
            .map((what) => `${what} node ${results.node[what].at(-1)} deno ${results.deno[what].at(-1)}`)
            .join("  ")
      )
    }
    for (const what of measures) {
      const [node, deno] = [Bench.median(results.node[what]), Bench.median(results.deno[what])]
      console.log(
        `${what.padEnd(5)} node ${String(node).padStart(6)} ${units[what].padEnd(11)} deno ${String(deno).padStart(6)}  ` +
          `deno/node ${(deno / node).toFixed(2)}  (target ≥ 0.8)`
      )
    }
  } finally {
    for (const bench of Object.values(stacks)) await bench.close()
  }
  process.exit(0)
}

void main()
