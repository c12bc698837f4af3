// TEMPORARY: CPU per stage on the memory transport
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync } from "node:child_process"
import * as Consumer from "../src/Consumer.ts"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as Inbox from "../src/Inbox.ts"
import * as MemoryTransport from "../src/MemoryTransport.ts"
import * as Message from "../src/Message.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Outbox from "../src/Outbox.ts"
import * as Publisher from "../src/Publisher.ts"
import * as WorkQueue from "../src/WorkQueue.ts"
const PG = "postgres://postgres@127.0.0.1:5432/postgres"
const n = Number(process.env.N ?? 50000)
const Deposit = Message.make("bench.deposit", Schema.Struct({ id: Schema.Int, account: Schema.String, amountMinor: Schema.Int, note: Schema.String }), { key: (d) => d.account })
const payload = (i: number) => ({ id: i, account: `acc-${i % 1000}`, amountMinor: 100 + (i % 977), note: "benchmark deposit" })
const db = `troupe_stages_${Date.now()}`
execFileSync("psql", [PG, "-qAtc", `create database ${db}`])
const url = new URL(PG); url.pathname = `/${db}`
const queue = WorkQueue.make("q", [Deposit])
const migrations: Database.Migrations = { "0001_deposits": SqlClient.SqlClient.use((sql) => sql`create table deposits (id int primary key, account text not null, amount_minor int not null, note text not null)`) }
const cpuMs = (c: NodeJS.CpuUsage) => Math.round((c.user + c.system) / 1000)
let applied = 0
let done = () => {}
const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const memory = MemoryTransport.make()
  // 1. producer
  let c0 = process.cpuUsage(); let t0 = performance.now()
  for (let i = 0; i < n; i += 500) yield* sql.withTransaction(Outbox.publishAll(queue, Deposit, Array.from({ length: 500 }, (_, k) => payload(i + k))))
  console.log(`producer: ${Math.round(performance.now() - t0)} ms cpu ${cpuMs(process.cpuUsage(c0))} ms`)
  // 2. relay (until the outbox is empty)
  const { Transport } = yield* Effect.promise(() => import("../src/Transport.ts"))
  c0 = process.cpuUsage(); t0 = performance.now()
  yield* Effect.gen(function* () {
    yield* Layer.build(Outbox.relay({ batchSize: 1000 }))
    while ((yield* sql<{ n: number }>`select count(*)::int as n from troupe_outbox`)[0]!.n > 0) yield* Effect.sleep("20 millis")
  }).pipe(Effect.scoped, Effect.provideService(Transport, memory))
  console.log(`relay: ${Math.round(performance.now() - t0)} ms cpu ${cpuMs(process.cpuUsage(c0))} ms  (queue depth ${memory.broker.depth("q")})`)
  // 3. consumer
  const finished = new Promise<void>((r) => (done = r))
  const { Session } = yield* Effect.promise(() => import("node:inspector/promises"))
  const session = new Session(); session.connect()
  yield* Effect.promise(() => session.post("Profiler.enable"))
  yield* Effect.promise(() => session.post("Profiler.setSamplingInterval", { interval: 200 }))
  yield* Effect.promise(() => session.post("Profiler.start"))
  c0 = process.cpuUsage(); t0 = performance.now()
  yield* Effect.gen(function* () {
    yield* Effect.forkScoped(Consumer.run({ from: queue, maxBatch: 500, concurrency: 4, prefetch: 2000, handle: Inbox.dedupe("q", (batch) => Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`insert into deposits (id, account, amount_minor, note) select * from unnest(${batch.map((e) => e.payload.id)}::int[], ${batch.map((e) => e.payload.account)}::text[], ${batch.map((e) => e.payload.amountMinor)}::int[], ${batch.map((e) => e.payload.note)}::text[])`
      applied += batch.length
      if (applied >= n) done()
    })) }))
    yield* Effect.promise(() => finished)
  }).pipe(Effect.scoped, Effect.provideService(Transport, memory))
  console.log(`consumer: ${Math.round(performance.now() - t0)} ms cpu ${cpuMs(process.cpuUsage(c0))} ms`)
  const { profile } = yield* Effect.promise(() => session.post("Profiler.stop"))
  const { writeFileSync } = yield* Effect.promise(() => import("node:fs"))
  writeFileSync("/tmp/perf/consumer.cpuprofile", JSON.stringify(profile))
  void Publisher
})
await Effect.runPromise(program.pipe(Effect.provide(Layer.mergeAll(Database.layer({ service: "s", migrations })).pipe(Layer.provideMerge(Layer.mergeAll(Health.layer, Metrics.layer("s"))), Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: url.toString(), DATABASE_POOL_MAX: "8" })))))))
execFileSync("psql", [PG, "-qAtc", `drop database ${db} with (force)`])
process.exit(0)
