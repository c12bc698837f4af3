// A Kafka consumer group member in its own process, for the kill test in KafkaTransport.test.ts.
// It applies `test.transfer` messages from a work queue into PostgreSQL through the inbox,
// slowly (each batch holds its transaction open), and reports on stdout, one `MEMBER {json}`
// line each: its partition assignment, and every batch it committed. The test SIGKILLs it.
//
//   KAFKA_BROKERS=… DATABASE_URL=… QUEUE=… node test/kafka-member.ts
import { NodeRuntime } from "@effect/platform-node"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import * as Consumer from "../src/Consumer.ts"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as Inbox from "../src/Inbox.ts"
import * as KafkaTransport from "../src/KafkaTransport.ts"
import * as Message from "../src/Message.ts"
import { Metrics } from "../src/Metrics.ts"
import * as WorkQueue from "../src/WorkQueue.ts"

export const Transfer = Message.make("test.transfer", Schema.Struct({ n: Schema.Int, key: Schema.String }), {
  key: (t) => t.key
})

export const migrations: Database.Migrations = {
  "0001_applied": SqlClient.SqlClient.use(
    (sql) =>
      sql`create table applied (id serial primary key, n int not null, key text not null, member text not null, attempt int not null)`
  )
}

/** The handler both members run: one row per message, through the inbox, in one transaction. */
export const apply = (
  group: string,
  member: string,
  hold: Effect.Effect<void> = Effect.void
): ((
  batch: ReadonlyArray<Message.EnvelopeOf<typeof Transfer>>
) => Effect.Effect<void, unknown, SqlClient.SqlClient | Metrics>) =>
  Inbox.dedupe(group, (batch: ReadonlyArray<Message.EnvelopeOf<typeof Transfer>>) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`
        insert into applied (n, key, member, attempt)
        select * from unnest(${batch.map((e) => e.payload.n)}::int[], ${batch.map((e) => e.payload.key)}::text[],
                             ${batch.map(() => member)}::text[], ${batch.map((e) => e.attempt)}::int[])`
      yield* hold // the transaction stays open: a kill here rolls the batch back
    })
  )

const report = (line: unknown) => Effect.sync(() => console.log(`MEMBER ${JSON.stringify(line)}`))

if (import.meta.main) {
  const env = (name: string) => {
    const value = process.env[name]
    if (value === undefined) throw new Error(`${name} is required`)
    return value
  }
  const queue = WorkQueue.make(env("QUEUE"), [Transfer])
  const member = Consumer.layer({
    from: queue,
    maxBatch: 5,
    concurrency: 2,
    prefetch: 20,
    handle: (batch) =>
      apply(
        queue.name,
        "victim",
        Effect.sleep("150 millis")
      )(batch).pipe(Effect.andThen(report({ committed: batch.map((e) => e.payload.n) })))
  })
  // Reports the partitions this member holds whenever they change.
  const assignment = Layer.effectDiscard(
    Effect.gen(function* () {
      const metrics = yield* Metrics
      let last = -1
      const poll = Effect.gen(function* () {
        const metric = metrics.registry.getSingleMetric("troupe_kafka_partitions_assigned")
        const values = metric ? yield* Effect.promise(async () => (await metric.get()).values) : []
        const assigned = values.reduce((n, v) => n + v.value, 0)
        if (assigned !== last) {
          last = assigned
          yield* report({ assigned })
        }
      })
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(poll, Effect.sleep("100 millis"))))
    })
  )
  Layer.mergeAll(member, assignment).pipe(
    Layer.provide(
      KafkaTransport.layer({
        brokers: [env("KAFKA_BROKERS")],
        clientId: "victim",
        sessionTimeout: "3 seconds",
        heartbeatInterval: "300 millis",
        commitInterval: "50 millis"
      })
    ),
    Layer.provide(Database.layer({ service: "kafka-member", migrations })),
    Layer.provide(Layer.mergeAll(Health.layer, Metrics.layerTest)),
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: env("DATABASE_URL") }))),
    Layer.launch,
    NodeRuntime.runMain
  )
}
