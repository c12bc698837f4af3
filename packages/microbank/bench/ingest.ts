/**
 * `npm run bench:ingest` — ingestion throughput in stack mode, in one run:
 *
 *   (a) raw broker: N persistent messages of a record's size published to a quorum queue with
 *       confirms (1 000 in flight), then consumed with manual acks (prefetch 500);
 *   (b) raw batched insert: N rows of a record's shape into PostgreSQL, 500 rows per `unnest`
 *       insert, one connection;
 *   (c) Microbank: N records through the gateway (`POST /api/v1/ingest/batch`, 500 per request,
 *       8 in flight: JWT, validation, ids) → ingest API (202 after the broker confirmed) →
 *       work queue → batching worker (inbox dedupe, one insert per batch) → PostgreSQL.
 *
 * Prints records/s and the ratios (c)/(a), (c)/(b). BENCH_N (default 100000), BENCH_ROUNDS
 * (default 3: the three alternate, medians reported). Needs PostgreSQL and RabbitMQ.
 */
import { AMQPClient } from "@cloudamqp/amqp-client"
import { Database, Health } from "@troupe/runtime"
import { ConfigProvider, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as Bench from "./lib.ts"

const N = Number(process.env.BENCH_N ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

// What a record looks like on the wire: the runtime's envelope around an accepted record.
const record = (i: number) => ({
  id: crypto.randomUUID(),
  type: "ingest.record_received",
  time: new Date().toISOString(),
  key: `bench-${i}`,
  payload: {
    id: crypto.randomUUID(),
    type: "bench",
    source: "bench",
    data: { seq: i, amount_minor: 100 + (i % 977), note: "benchmark record" },
    received_at: new Date().toISOString()
  }
})

const rawBroker = async (url: string): Promise<number> => {
  const connection = await new AMQPClient(url).connect()
  const channel = await connection.channel()
  const queue = `bench_raw_${Date.now()}`
  await channel.queueDeclare(queue, { durable: true }, { "x-queue-type": "quorum" })
  await channel.confirmSelect()
  const encoder = new TextEncoder()
  const start = performance.now()
  for (let i = 0; i < N; i += 1000) {
    const sends: Array<Promise<number>> = []
    for (let j = i; j < Math.min(N, i + 1000); j++) {
      sends.push(
        channel.basicPublish("", queue, encoder.encode(JSON.stringify(record(j))), {
          deliveryMode: 2,
          contentType: "application/json"
        })
      )
    }
    await Promise.all(sends)
  }
  const consumer = await connection.channel()
  await consumer.basicQos(500)
  let received = 0
  await new Promise<void>((resolve) => {
    void consumer.basicConsume(queue, { noAck: false }, (message) => {
      JSON.parse(new TextDecoder().decode(message.body!))
      void message.ack()
      if (++received === N) resolve()
    })
  })
  const ms = performance.now() - start
  await channel.queueDelete(queue)
  await connection.close()
  return Bench.rate(N, ms)
}

const rawInsert = (databaseUrl: string): Promise<number> => {
  const program = Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const table = `bench_raw_${Date.now()}`
    yield* sql`create table ${sql(table)} (like records including all)`
    const start = performance.now()
    for (let i = 0; i < N; i += 500) {
      const rows = Array.from({ length: Math.min(500, N - i) }, (_, k) => record(i + k).payload)
      yield* sql`
        insert into ${sql(table)} (id, type, source, data, received_at)
        select * from unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.type)}::text[],
                             ${rows.map((r) => r.source)}::text[], ${rows.map((r) => JSON.stringify(r.data))}::jsonb[],
                             ${rows.map((r) => r.received_at)}::timestamptz[])`
    }
    const ms = performance.now() - start
    yield* sql`drop table ${sql(table)}`
    return Bench.rate(N, ms)
  })
  // The ingest service's own database (its table `records` is the model), no migrations of our own.
  const layer = Database.layer({ service: "bench", migrations: {} }).pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: databaseUrl }))),
    Layer.provide(Health.Health.layer)
  )
  return Effect.runPromise(Effect.scoped(Effect.provide(program, layer)))
}

const main = async () => {
  const bench = await Bench.startStack({ runtime: "node", kafka: false })
  try {
    console.log(`node ${process.versions.node}, N = ${N}, ${ROUNDS} rounds`)
    await Bench.ingestThroughGateway(bench, 2_000) // warm up the path
    const results = { broker: [] as Array<number>, insert: [] as Array<number>, microbank: [] as Array<number> }
    for (let round = 1; round <= ROUNDS; round++) {
      const a = await rawBroker(bench.amqpUrl)
      const b = await rawInsert(bench.stack.databaseUrl("ingest"))
      const c = await Bench.ingestThroughGateway(bench, N)
      results.broker.push(a)
      results.insert.push(b)
      results.microbank.push(c)
      console.log(
        `round ${round}: (a) raw broker ${a}/s  (b) raw insert ${b}/s  (c) Microbank ${c}/s  ` +
          `(c)/(a) ${(c / a).toFixed(2)}  (c)/(b) ${(c / b).toFixed(2)}`
      )
    }
    const [a, b, c] = [Bench.median(results.broker), Bench.median(results.insert), Bench.median(results.microbank)]
    console.log(`(a) raw broker, publish+consume:       ${a} records/s`)
    console.log(`(b) raw batched insert:                ${b} records/s`)
    console.log(`(c) Microbank, gateway → stored:       ${c} records/s`)
    console.log(`ratio (c)/(a): ${(c / a).toFixed(2)}   ratio (c)/(b): ${(c / b).toFixed(2)}`)
  } finally {
    await bench.close()
  }
  process.exit(0)
}

void main()
