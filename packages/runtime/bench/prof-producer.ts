// TEMPORARY: outbox producer alone
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync } from "node:child_process"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as Message from "../src/Message.ts"
import * as Outbox from "../src/Outbox.ts"
import * as WorkQueue from "../src/WorkQueue.ts"
const PG = "postgres://postgres@127.0.0.1:5432/postgres"
const n = Number(process.env.N ?? 50000)
const Deposit = Message.make("bench.deposit", Schema.Struct({ id: Schema.Int, account: Schema.String, amountMinor: Schema.Int, note: Schema.String }), { key: (d) => d.account })
const payload = (i: number) => ({ id: i, account: `acc-${i % 1000}`, amountMinor: 100 + (i % 977), note: "benchmark deposit" })
const db = `troupe_prod_${Date.now()}`
execFileSync("psql", [PG, "-qAtc", `create database ${db}`])
const url = new URL(PG); url.pathname = `/${db}`
const queue = WorkQueue.make("q", [Deposit])
const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  for (let round = 0; round < 3; round++) {
    const cpu0 = process.cpuUsage(); const t0 = performance.now()
    for (let i = 0; i < n; i += 500) {
      const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => payload(i + k))
      yield* sql.withTransaction(Outbox.publishAll(queue, Deposit, batch))
    }
    const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0)
    console.log(`producer alone: ${Math.round(n / ms * 1000)} msgs/s ${Math.round(ms)} ms node cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms`)
  }
})
await Effect.runPromise(program.pipe(Effect.provide(Database.layer({ service: "p" }).pipe(Layer.provideMerge(Health.layer), Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: url.toString() })))))))
execFileSync("psql", [PG, "-qAtc", `drop database ${db} with (force)`])
process.exit(0)
