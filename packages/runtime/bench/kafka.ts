/**
 * The Kafka half of `npm run bench` (also runnable alone: `node bench/kafka.ts`), against
 * KAFKA_BROKERS if set, else a librdkafka mock cluster started with kcat, and the local PostgreSQL:
 *
 *   (a) raw kafkajs: N messages produced in 1 000-message sends (`acks: -1`) while a consumer
 *       group (already joined) consumes them with `eachBatch` and kafkajs's own commits;
 *   (b) the runtime's full path: outbox insert (multi-row, transactional) → relay publish
 *       (`acks: -1`) → consumer group (supervised consumer, already joined) → batch handler
 *       inserting into PostgreSQL with inbox dedupe, offsets committed after the transaction;
 *   plus produce alone, one `send` per message vs 1 000-message sends.
 *
 * Both (a) and (b) are timed from the first produce to the last message handled; joining the
 * consumer group (the broker's 3 s initial rebalance delay) happens before the clock starts.
 * Each round also prints the CPU time this process spent on (a) and on (b).
 */
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { Kafka, logLevel, Partitioners } from "kafkajs"
import { execFileSync } from "node:child_process"
import * as Consumer from "../src/Consumer.ts"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as Inbox from "../src/Inbox.ts"
import * as KafkaTransport from "../src/KafkaTransport.ts"
import * as Message from "../src/Message.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Outbox from "../src/Outbox.ts"
import * as WorkQueue from "../src/WorkQueue.ts"

export interface Settings {
  readonly n: number
  readonly rounds: number
  readonly pg: string
}

// The mock cluster answers a fetch only when its wait expires, even if messages arrived meanwhile
// (a real broker answers at once), so both sides poll with the same short wait.
const fetchMaxWait = 100
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)
// CPU time of this process (both sides run in it), in seconds.
const cpuSince = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start)
  return (user + system) / 1e6
}
const median = (xs: ReadonlyArray<number>) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
const payload = (i: number) => ({
  id: i,
  account: `acc-${i % 1000}`,
  amountMinor: 100 + (i % 977),
  note: "benchmark deposit"
})
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`

// --- (a) raw kafkajs --------------------------------------------------------------
const client = (brokers: ReadonlyArray<string>) =>
  new Kafka({ clientId: "bench-raw", brokers: [...brokers], logLevel: logLevel.ERROR })

const produceAll = async (
  producer: ReturnType<Kafka["producer"]>,
  topic: string,
  n: number,
  batch: number
): Promise<void> => {
  for (let i = 0; i < n; i += batch) {
    const messages = []
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const p = payload(j)
      messages.push({ key: p.account, value: JSON.stringify(p) })
    }
    await producer.send({ topic, acks: -1, messages })
  }
}

const rawKafka = async (
  brokers: ReadonlyArray<string>,
  n: number
): Promise<{ readonly ms: number; readonly cpu: number }> => {
  const kafka = client(brokers)
  const topic = unique("bench_raw")
  const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: fetchMaxWait })
  await producer.connect()
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true }) // creates the topic
  let received = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => (done = resolve))
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch, resolveOffset }) => {
      for (const message of batch.messages) {
        JSON.parse(message.value!.toString())
        resolveOffset(message.offset)
        if (++received === n) done()
      }
    }
  })
  const start = performance.now()
  const cpu = process.cpuUsage()
  await produceAll(producer, topic, n, 1000)
  await finished
  const ms = performance.now() - start
  const used = cpuSince(cpu)
  await consumer.disconnect()
  await producer.disconnect()
  return { ms, cpu: used }
}

const produceOnly = async (brokers: ReadonlyArray<string>, n: number, batch: number): Promise<number> => {
  const kafka = client(brokers)
  const topic = unique("bench_produce")
  const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  await producer.send({ topic, acks: -1, messages: [{ key: "warm-up", value: "{}" }] })
  const start = performance.now()
  await produceAll(producer, topic, n, batch)
  const ms = performance.now() - start
  await producer.disconnect()
  return ms
}

// --- (b) the runtime path -----------------------------------------------------------
const Deposit = Message.make(
  "bench.deposit",
  Schema.Struct({ id: Schema.Int, account: Schema.String, amountMinor: Schema.Int, note: Schema.String }),
  { key: (d) => d.account }
)

const runtimePath = async (
  brokers: ReadonlyArray<string>,
  settings: Settings
): Promise<{ readonly ms: number; readonly produced: number; readonly cpu: number }> => {
  const { n, pg } = settings
  const dbName = unique("troupe_bench_kafka")
  const psql = (sql: string) => execFileSync("psql", [pg, "-qAtc", sql], { stdio: "pipe" })
  psql(`create database ${dbName}`)
  const url = new URL(pg)
  url.pathname = `/${dbName}`
  const queue = WorkQueue.make(unique("bench_runtime"), [Deposit])
  const migrations: Database.Migrations = {
    "0001_deposits": SqlClient.SqlClient.use(
      (sql) =>
        sql`create table deposits (id int primary key, account text not null, amount_minor int not null, note text not null)`
    )
  }
  let applied = 0
  let produced = 0
  let cpu = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => (done = resolve))
  const program = Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const health = yield* Health
    // The consumer joins its group before the clock starts, as the raw consumer does.
    while (!(yield* health.report).ready) yield* Effect.sleep("50 millis")
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        for (let i = 0; i < n; i += 500) {
          const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => payload(i + k))
          yield* sql.withTransaction(Outbox.publishAll(queue, Deposit, batch))
        }
        produced = performance.now() - start
      })
    )
    // A consumer that falls more than the broker's retention behind loses messages (the mock
    // cluster keeps 5 MB per partition): fail instead of waiting forever.
    let last = -1
    while (!(yield* Effect.promise(() => Promise.race([finished.then(() => true), sleep(30_000).then(() => false)])))) {
      if (applied === last) return yield* Effect.die(new Error(`no progress for 30 s at ${applied} of ${n} messages`))
      last = applied
    }
    cpu = cpuSince(cpuStart)
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
        if (applied >= n) done()
      })
    )
  })
  const layer = Layer.mergeAll(consumer, Outbox.relay({ batchSize: 1000 })).pipe(
    Layer.provideMerge(KafkaTransport.layer({ brokers, clientId: "bench", fetchMaxWait: `${fetchMaxWait} millis` })),
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
    if (count !== n) throw new Error(`expected ${n} deposits, found ${count}`)
    return { ms, produced, cpu }
  } finally {
    psql(`drop database ${dbName} with (force)`)
  }
}

export const kafkaBench = async (settings: Settings): Promise<void> => {
  const { n, rounds } = settings
  const configured = process.env.KAFKA_BROKERS?.split(",").map((b) => b.trim())
  const mock = configured ? undefined : await import("../test/kafka.ts").then((m) => m.startKafka())
  const brokers = configured ?? [mock!.bootstrap]
  console.log(
    `\nKafka: N = ${n} messages, ${rounds} rounds, brokers ${configured ? brokers.join(",") : "librdkafka mock cluster (kcat)"}`
  )
  try {
    const as: Array<number> = []
    const bs: Array<number> = []
    for (let round = 1; round <= rounds; round++) {
      const { ms: a, cpu: cpuA } = await rawKafka(brokers, n)
      as.push(a)
      const { ms: b, produced, cpu: cpuB } = await runtimePath(brokers, settings)
      bs.push(b)
      console.log(
        `round ${round}: (a) ${rate(n, a)} msgs/s  (b) ${rate(n, b)} msgs/s (outbox filled after ${Math.round(produced)} ms)  ratio ${(a / b).toFixed(2)}  node CPU (a) ${cpuA.toFixed(1)} s (b) ${cpuB.toFixed(1)} s`
      )
    }
    const a = median(as)
    const b = median(bs)
    console.log(`(a) raw kafkajs produce(acks=-1) + consume(group):                ${rate(n, a)} msgs/s (median)`)
    console.log(`(b) runtime outbox → relay → consumer group → batch insert + inbox: ${rate(n, b)} msgs/s (median)`)
    console.log(`ratio (b)/(a): ${(a / b).toFixed(2)}  (target ≥ 0.5)`)
    const single = Math.min(n, Number(process.env.BENCH_SINGLE_N ?? 5_000))
    const one = await produceOnly(brokers, single, 1)
    const batched = await produceOnly(brokers, n, 1000)
    console.log(`produce only, one send per message (${single} msgs): ${rate(single, one)} msgs/s`)
    console.log(`produce only, 1 000 messages per send (${n} msgs):  ${rate(n, batched)} msgs/s`)
  } finally {
    await mock?.stop()
  }
}

if (import.meta.main) {
  await kafkaBench({
    n: Number(process.env.BENCH_KAFKA_N ?? 50_000),
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    pg: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  })
  process.exit(0)
}
