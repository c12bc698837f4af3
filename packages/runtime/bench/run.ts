/**
 * `npm run bench` — messaging throughput, in one run, against the local RabbitMQ and PostgreSQL,
 * then the same comparison on Kafka (bench/kafka.ts; `BENCH_TRANSPORTS=amqp` or `kafka` runs one):
 *
 *   (a) raw @cloudamqp/amqp-client: persistent publishes with confirms (pipelined), then
 *       consume with manual acks — the broker's own ceiling on this machine;
 *   (b) the runtime's full path: outbox insert (multi-row, transactional) → relay publish
 *       with confirms → supervised consumer → batch handler inserting into PostgreSQL with
 *       inbox dedupe, all in one transaction per batch.
 *
 * Prints msgs/s for both, the ratio (b)/(a) and the CPU time this process spent on each (both
 * run in it; the brokers and PostgreSQL are other processes). BENCH_N (default 100000) sets N; BENCH_ROUNDS
 * (default 3) alternates (a) and (b) that many times and reports medians, because a shared
 * 2-core machine is noisy.
 */
import { AMQPClient } from "@cloudamqp/amqp-client"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync } from "node:child_process"
import * as AmqpTransport from "../src/AmqpTransport.ts"
import * as Consumer from "../src/Consumer.ts"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as Inbox from "../src/Inbox.ts"
import * as Message from "../src/Message.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Outbox from "../src/Outbox.ts"
import * as WorkQueue from "../src/WorkQueue.ts"
import { Redacted } from "effect"
import { kafkaBench } from "./kafka.ts"

const N = Number(process.env.BENCH_N ?? 100_000)
const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672"
const PG = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const payload = (i: number) => ({
  id: i,
  account: `acc-${i % 1000}`,
  amountMinor: 100 + (i % 977),
  note: "benchmark deposit"
})

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)
const median = (xs: ReadonlyArray<number>) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
const stages = { produced: 0, cpu: 0 }
// CPU time of this process (both sides run in it), in seconds.
const cpuSince = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start)
  return (user + system) / 1e6
}

// --- (a) raw amqp-client ------------------------------------------------------
const rawAmqp = async (): Promise<number> => {
  const conn = await new AMQPClient(AMQP_URL).connect()
  const ch = await conn.channel()
  const queue = `bench_raw_${Date.now()}`
  await ch.queueDeclare(queue, { durable: true }, { "x-queue-type": "quorum" })
  await ch.confirmSelect()
  const encoder = new TextEncoder()
  const start = performance.now()
  const cpu = process.cpuUsage()
  const window = 1000
  for (let i = 0; i < N; i += window) {
    const sends: Array<Promise<number>> = []
    for (let j = i; j < Math.min(N, i + window); j++) {
      sends.push(
        ch.basicPublish("", queue, encoder.encode(JSON.stringify(payload(j))), {
          deliveryMode: 2,
          contentType: "application/json"
        })
      )
    }
    await Promise.all(sends)
  }
  const consumer = await conn.channel()
  await consumer.basicQos(500)
  let received = 0
  await new Promise<void>((resolve) => {
    void consumer.basicConsume(queue, { noAck: false }, (msg) => {
      JSON.parse(new TextDecoder().decode(msg.body!))
      received++
      void msg.ack()
      if (received === N) resolve()
    })
  })
  const ms = performance.now() - start
  stages.cpu = cpuSince(cpu)
  await ch.queueDelete(queue)
  await conn.close()
  return ms
}

// --- (b) the runtime path ----------------------------------------------------------
const Deposit = Message.make(
  "bench.deposit",
  Schema.Struct({ id: Schema.Int, account: Schema.String, amountMinor: Schema.Int, note: Schema.String }),
  { key: (d) => d.account }
)

const runtimePath = async (): Promise<number> => {
  const dbName = `troupe_bench_${Date.now()}`
  const psql = (sql: string) => execFileSync("psql", [PG, "-qAtc", sql], { stdio: "pipe" })
  psql(`create database ${dbName}`)
  const url = new URL(PG)
  url.pathname = `/${dbName}`
  const queue = WorkQueue.make(`bench_runtime_${Date.now()}`, [Deposit])
  const migrations: Database.Migrations = {
    "0001_deposits": SqlClient.SqlClient.use(
      (sql) =>
        sql`create table deposits (id int primary key, account text not null, amount_minor int not null, note text not null)`
    )
  }
  let applied = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => (done = resolve))
  const program = Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const start = performance.now()
    const cpu = process.cpuUsage()
    // Producers: 500-row transactions into the outbox.
    const producer = Effect.gen(function* () {
      for (let i = 0; i < N; i += 500) {
        const batch = Array.from({ length: Math.min(500, N - i) }, (_, k) => payload(i + k))
        yield* sql.withTransaction(Outbox.publishAll(queue, Deposit, batch))
      }
      stages.produced = performance.now() - start
    })
    yield* Effect.forkScoped(producer)
    yield* Effect.promise(() => finished)
    stages.cpu = cpuSince(cpu)
    return performance.now() - start
  })
  const consumer = Consumer.layer({
    from: queue,
    maxBatch: 500,
    concurrency: 4,
    prefetch: 2000,
    handle: Inbox.dedupe(queue.name, (batch) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`
          insert into deposits (id, account, amount_minor, note)
          select * from unnest(${batch.map((e) => e.payload.id)}::int[], ${batch.map((e) => e.payload.account)}::text[],
                               ${batch.map((e) => e.payload.amountMinor)}::int[], ${batch.map((e) => e.payload.note)}::text[])`
        applied += batch.length
        if (applied >= N) done()
      })
    )
  })
  const layer = Layer.mergeAll(consumer, Outbox.relay({ batchSize: 1000 })).pipe(
    Layer.provideMerge(AmqpTransport.layer({ url: Redacted.make(AMQP_URL) })),
    Layer.provideMerge(Database.layer({ service: "bench", migrations })),
    Layer.provideMerge(Layer.mergeAll(Health.layer, Metrics.layer("bench"))),
    Layer.provide(
      ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: url.toString(), DATABASE_POOL_MAX: "8" }))
    )
  )
  try {
    const ms = await Effect.runPromise(Effect.scoped(Effect.provide(program, layer)))
    const count = Number(
      execFileSync("psql", [url.toString(), "-qAtc", "select count(*) from deposits"]).toString().trim()
    )
    if (count !== N) throw new Error(`expected ${N} deposits, found ${count}`)
    return ms
  } finally {
    const conn = await new AMQPClient(AMQP_URL).connect()
    const ch = await conn.channel()
    await ch.queueDelete(queue.name).catch(() => undefined)
    await ch.queueDelete(`${queue.name}.dlq`).catch(() => undefined)
    await conn.close()
    psql(`drop database ${dbName} with (force)`)
  }
}

const transports = (process.env.BENCH_TRANSPORTS ?? "amqp,kafka").split(",")

const main = async () => {
  if (transports.includes("amqp")) await amqpBench()
  if (transports.includes("kafka"))
    await kafkaBench({ n: Number(process.env.BENCH_KAFKA_N ?? 50_000), rounds: ROUNDS, pg: PG })
  process.exit(0)
}

const amqpBench = async () => {
  console.log(`N = ${N} messages, ${ROUNDS} rounds, node ${process.versions.node}`)
  const as: Array<number> = []
  const bs: Array<number> = []
  for (let round = 1; round <= ROUNDS; round++) {
    const a = await rawAmqp()
    as.push(a)
    const cpuA = stages.cpu
    const b = await runtimePath()
    bs.push(b)
    console.log(
      `round ${round}: (a) ${rate(N, a)} msgs/s  (b) ${rate(N, b)} msgs/s (outbox filled after ${Math.round(stages.produced)} ms)  ratio ${(a / b).toFixed(2)}  node CPU (a) ${cpuA.toFixed(1)} s (b) ${stages.cpu.toFixed(1)} s`
    )
  }
  const a = median(as)
  const b = median(bs)
  console.log(`(a) raw amqp-client publish(confirm) + consume(ack):           ${rate(N, a)} msgs/s (median)`)
  console.log(`(b) runtime outbox → relay → consumer → batch insert + inbox: ${rate(N, b)} msgs/s (median)`)
  console.log(`ratio (b)/(a): ${(a / b).toFixed(2)}  (target ≥ 0.5)`)
}

void main()
