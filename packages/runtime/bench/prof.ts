// TEMPORARY profiling driver (not committed): runs only the runtime side (b) and reports CPU.
import { ConfigProvider, Effect, Layer, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as AmqpTransport from "../src/AmqpTransport.ts"
import * as Consumer from "../src/Consumer.ts"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as Inbox from "../src/Inbox.ts"
import * as KafkaTransport from "../src/KafkaTransport.ts"
import * as MemoryTransport from "../src/MemoryTransport.ts"
import * as Message from "../src/Message.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Outbox from "../src/Outbox.ts"
import * as WorkQueue from "../src/WorkQueue.ts"

const transport = process.env.T ?? "kafka"
const n = Number(process.env.N ?? 50_000)
const PG = "postgres://postgres@127.0.0.1:5432/postgres"
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const payload = (i: number) => ({ id: i, account: `acc-${i % 1000}`, amountMinor: 100 + (i % 977), note: "benchmark deposit" })
const Deposit = Message.make(
  "bench.deposit",
  Schema.Struct({ id: Schema.Int, account: Schema.String, amountMinor: Schema.Int, note: Schema.String }),
  { key: (d) => d.account }
)
const ticks = (pids: ReadonlyArray<string>) =>
  pids.reduce((sum, pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
      return sum + Number(f[11]) + Number(f[12])
    } catch {
      return sum
    }
  }, 0)

const main = async () => {
  const mock = transport === "kafka" ? await import("../test/kafka.ts").then((m) => m.startKafka()) : undefined
  const dbName = unique("troupe_prof")
  const psql = (url: string, sql: string) => execFileSync("psql", [url, "-qAtc", sql], { stdio: "pipe" }).toString().trim()
  psql(PG, `create database ${dbName}`)
  const url = new URL(PG)
  url.pathname = `/${dbName}`
  const queue = WorkQueue.make(unique("prof"), [Deposit])
  const migrations: Database.Migrations = {
    "0001_deposits": SqlClient.SqlClient.use(
      (sql) => sql`create table deposits (id int primary key, account text not null, amount_minor int not null, note text not null)`
    )
  }
  let applied = 0
  const sizes: Array<number> = []
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => (done = resolve))
  const pgPids = () => psql(url.toString(), "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()").split("\n")
  const program = Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const health = yield* Health
    while (!(yield* health.report).ready) yield* Effect.sleep("50 millis")
    yield* Effect.sleep("200 millis")
    const pids0 = pgPids()
    const pg0 = ticks(pids0)
    const x0 = psql(url.toString(), "select xact_commit from pg_stat_database where datname = current_database()")
    const session = process.env.PROF ? new (yield* Effect.promise(() => import("node:inspector/promises"))).Session() : undefined
    if (session) {
      session.connect()
      yield* Effect.promise(() => session.post("Profiler.enable"))
      yield* Effect.promise(() => session.post("Profiler.setSamplingInterval", { interval: 200 }))
      yield* Effect.promise(() => session.post("Profiler.start"))
    }
    const cpu0 = process.cpuUsage()
    const start = performance.now()
    let produced = 0
    let inserted = 0
    const timeline: Array<string> = []
    if (process.env.TIMELINE) yield* Effect.forkScoped(Effect.forever(Effect.gen(function* () {
      yield* Effect.sleep("500 millis")
      const [{ backlog }] = yield* sql<{ backlog: number }>`select count(*)::int as backlog from troupe_outbox`
      timeline.push(`${Math.round(performance.now() - start)}ms ins ${inserted} outbox ${backlog} relayed ${inserted - backlog} applied ${applied}`)
    })))
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        for (let i = 0; i < n; i += 500) {
          const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => payload(i + k))
          yield* sql.withTransaction(Outbox.publishAll(queue, Deposit, batch))
          inserted += batch.length
        }
        produced = performance.now() - start
      })
    )
    yield* Effect.promise(() => finished)
    const ms = performance.now() - start
    const cpu = process.cpuUsage(cpu0)
    if (session) {
      const { profile } = yield* Effect.promise(() => session.post("Profiler.stop"))
      const { writeFileSync } = yield* Effect.promise(() => import("node:fs"))
      writeFileSync(process.env.PROF!, JSON.stringify(profile))
    }
    const pids1 = pgPids()
    const pg = ticks(pids1) - ticks(pids0.filter((p) => pids1.includes(p))) + 0 * pg0
    const x1 = psql(url.toString(), "select xact_commit from pg_stat_database where datname = current_database()")
    if (timeline.length) console.log(timeline.join("\n"))
    const s = [...sizes].sort((a, b) => a - b)
    console.log(
      `${transport}: ${Math.round((n / ms) * 1000)} msgs/s  ${Math.round(ms)} ms (outbox filled ${Math.round(produced)} ms)  node cpu ${((cpu.user + cpu.system) / 1e3).toFixed(0)} ms  pg backends cpu ${pg * 10} ms (${pids1.length})  xacts ${Number(x1) - Number(x0)}  handler calls ${sizes.length} p50 ${s[Math.floor(s.length / 2)]} p90 ${s[Math.floor(s.length * 0.9)]}  load ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}`
    )
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
        sizes.push(batch.length)
        if (applied >= n) done()
      })
    )
  })
  const transportLayer =
    transport === "kafka"
      ? KafkaTransport.layer({ brokers: [mock!.bootstrap], clientId: "bench", fetchMaxWait: "100 millis" })
      : transport === "amqp"
        ? AmqpTransport.layer({ url: Redacted.make("amqp://guest:guest@127.0.0.1:5672") })
        : MemoryTransport.layer()
  const layer = Layer.mergeAll(consumer, Outbox.relay({ batchSize: 1000 })).pipe(
    Layer.provideMerge(transportLayer),
    Layer.provideMerge(Database.layer({ service: "bench", migrations })),
    Layer.provideMerge(Layer.mergeAll(Health.layer, Metrics.layer("bench"))),
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: url.toString(), DATABASE_POOL_MAX: "8" })))
  )
  try {
    await Effect.runPromise(Effect.scoped(Effect.provide(program, layer)))
    const count = Number(psql(url.toString(), "select count(*) from deposits"))
    if (count !== n) throw new Error(`expected ${n} deposits, found ${count}`)
  } finally {
    if (transport === "amqp") {
      const { AMQPClient } = await import("@cloudamqp/amqp-client")
      const conn = await new AMQPClient("amqp://guest:guest@127.0.0.1:5672").connect()
      const ch = await conn.channel()
      await ch.queueDelete(queue.name).catch(() => undefined)
      await ch.queueDelete(`${queue.name}.dlq`).catch(() => undefined)
      await conn.close()
    }
    psql(PG, `drop database ${dbName} with (force)`)
    await mock?.stop()
  }
}
await main()
process.exit(0)
