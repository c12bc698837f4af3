// The Kafka transport against a real Kafka-protocol broker: librdkafka's mock cluster, run by
// kcat (see kafka.ts). The transport contract suite, then what is specific to Kafka: the wire
// format, delivery counts across members, consumer lag metrics, configuration, a member
// killed mid-batch (a real process, SIGKILL) and a broker that stops answering.
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Exit, Layer, Redacted, Schedule, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Consumer from "../src/Consumer.ts"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as KafkaTransport from "../src/KafkaTransport.ts"
import * as Message from "../src/Message.ts"
import * as Messaging from "../src/Messaging.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Publisher from "../src/Publisher.ts"
import { Transport } from "../src/Transport.ts"
import * as WorkQueue from "../src/WorkQueue.ts"
import { eventually, Ping, transportContract } from "./contract.ts"
import { deadLetterReader, kafkaAvailable, readTopic, startKafka } from "./kafka.ts"
import { apply, migrations, Transfer } from "./kafka-member.ts"
import { parsePrometheus } from "./process.ts"
import { createDatabase, postgresAvailable, unique } from "./services.ts"

const broker = kafkaAvailable ? await startKafka() : undefined
afterAll(() => broker?.stop())
const bootstrap = () => broker!.bootstrap

// Short sessions: the mock cluster waits up to a session timeout before it completes a rebalance.
const testOptions = (overrides: Partial<KafkaTransport.Options> = {}): KafkaTransport.Options => ({
  brokers: [bootstrap()],
  clientId: "troupe-test",
  sessionTimeout: "3 seconds",
  heartbeatInterval: "300 millis",
  commitInterval: "50 millis",
  ...overrides
})

const deadLetters = deadLetterReader(bootstrap)

transportContract({
  name: "kafka (librdkafka mock cluster)",
  skip: !kafkaAvailable,
  layer: () => KafkaTransport.layer(testOptions()).pipe(Layer.orDie),
  // Kafka orders per partition (per key), not across partitions.
  orderedAcrossKeys: false,
  deadLetters: (queue) => Effect.promise(() => deadLetters(queue))
})

describe("delivery marks (offset commit metadata)", () => {
  it("records how often the messages above the committed offset were handed out", () => {
    const none = KafkaTransport.parseMarks(null)
    assert.deepStrictEqual(none, [])
    // A member delivered 10..19 and committed 12: 12..19 were delivered once.
    const once = KafkaTransport.parseMarks(KafkaTransport.encodeMarks(none, 12, 20))
    assert.deepStrictEqual(once, [[20, 1]])
    assert.strictEqual(KafkaTransport.priorDeliveries(once, 15), 1)
    assert.strictEqual(KafkaTransport.priorDeliveries(once, 20), 0)
    // The next member delivered 12..15 again and committed nothing before it died.
    const twice = KafkaTransport.parseMarks(KafkaTransport.encodeMarks(once, 12, 16))
    assert.deepStrictEqual(twice, [
      [16, 2],
      [20, 1]
    ])
    assert.strictEqual(KafkaTransport.priorDeliveries(twice, 13), 2)
    assert.strictEqual(KafkaTransport.priorDeliveries(twice, 17), 1)
    // Committed past everything: nothing left to remember.
    assert.deepStrictEqual(KafkaTransport.parseMarks(KafkaTransport.encodeMarks(twice, 20, 20)), [])
    assert.deepStrictEqual(KafkaTransport.parseMarks("someone else's metadata"), [])
  })
})

const support = Layer.mergeAll(Layer.fresh(Health.layer), Metrics.layerTest)
const withKafka = <A, E>(
  effect: Effect.Effect<A, E, Transport | Health | Metrics | Scope.Scope>,
  overrides?: Partial<KafkaTransport.Options>
) =>
  Effect.scoped(effect).pipe(
    Effect.provide(KafkaTransport.layer(testOptions(overrides)).pipe(Layer.provideMerge(support)))
  )

const samples = Effect.gen(function* () {
  const metrics = yield* Metrics
  return parsePrometheus(yield* metrics.render).samples
})

describe.skipIf(!kafkaAvailable)("kafka transport", () => {
  it.live("writes the key as the record key and the envelope as CloudEvents headers", () =>
    withKafka(
      Effect.gen(function* () {
        const transport = yield* Transport
        const topic = unique("wire")
        const raw = (id: string, key: string): Message.Raw => ({
          id,
          type: "test.ping",
          key,
          occurredAt: Date.parse("2026-11-21T10:00:00.123Z"),
          traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          body: JSON.stringify({ n: 1, key })
        })
        yield* transport.publish({ kind: "queue", name: topic }, [
          raw("01900000-0000-7000-8000-000000000001", "acct-1"),
          raw("01900000-0000-7000-8000-000000000002", "acct-2"),
          raw("01900000-0000-7000-8000-000000000003", "acct-1")
        ])
        const records = yield* Effect.promise(() => readTopic(bootstrap(), topic))
        assert.strictEqual(records.length, 3)
        const first = records.find((r) => r.headers["ce_id"] === "01900000-0000-7000-8000-000000000001")!
        assert.strictEqual(first.key, "acct-1")
        assert.strictEqual(first.payload, JSON.stringify({ n: 1, key: "acct-1" }))
        assert.deepInclude(first.headers, {
          ce_specversion: "1.0",
          ce_type: "test.ping",
          ce_source: "troupe-test",
          ce_time: "2026-11-21T10:00:00.123Z",
          "content-type": "application/json",
          traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        })
        const third = records.find((r) => r.headers["ce_id"] === "01900000-0000-7000-8000-000000000003")!
        assert.strictEqual(third.partition, first.partition, "one key, one partition")
        assert.isAbove(third.offset, first.offset)
      })
    )
  )

  it.live("dead-letters a message with the partition and offset it was read from", () =>
    withKafka(
      Effect.gen(function* () {
        const name = unique("dlq_at")
        const queue = WorkQueue.make(name, [Ping])
        const ready = yield* Deferred.make<void>()
        yield* Effect.forkScoped(
          Consumer.run(
            { from: queue, maxAttempts: 1, handle: () => Effect.fail("refused") },
            Deferred.succeed(ready, undefined)
          )
        )
        yield* Deferred.await(ready)
        const [id] = yield* Publisher.publish(queue, Ping, [{ n: 1, key: "where" }])
        let dead: ReadonlyArray<{ readonly id: string; readonly headers: Record<string, string> }> = []
        yield* eventually(() => dead.length > 0, 15_000, "the dead letter").pipe(
          Effect.race(
            Effect.forever(
              Effect.andThen(
                Effect.promise(() => deadLetters(name)).pipe(Effect.map((d) => void (dead = [...dead, ...d]))),
                Effect.sleep("100 millis")
              )
            )
          )
        )
        const [original] = yield* Effect.promise(() => readTopic(bootstrap(), name))
        assert.strictEqual(dead[0]!.id, id)
        assert.deepInclude(dead[0]!.headers, {
          "x-error-reason": "exhausted",
          "x-original-topic": name,
          "x-consumer-group": name,
          "x-original-partition": String(original!.partition),
          "x-original-offset": String(original!.offset)
        })
      })
    )
  )

  it.live("reports consumer lag per group, topic and partition", () =>
    withKafka(
      Effect.gen(function* () {
        const name = unique("lag")
        const queue = WorkQueue.make(name, [Ping])
        const gate = yield* Deferred.make<void>()
        const ready = yield* Deferred.make<void>()
        let handled = 0
        yield* Effect.forkScoped(
          Consumer.run(
            {
              from: queue,
              handle: (batch) =>
                Effect.andThen(
                  Deferred.await(gate),
                  Effect.sync(() => (handled += batch.length))
                )
            },
            Deferred.succeed(ready, undefined)
          )
        )
        yield* Deferred.await(ready)
        yield* Publisher.publish(
          queue,
          Ping,
          Array.from({ length: 10 }, (_, n) => ({ n, key: "one-key" }))
        )
        const lagOf = (s: ReadonlyArray<{ name: string; labels: Record<string, string>; value: number }>) =>
          s.filter((x) => x.name === "troupe_kafka_consumer_lag" && x.labels.group === name && x.labels.topic === name)
        let lag: ReturnType<typeof lagOf> = []
        yield* eventually(() => lag.reduce((n, x) => n + x.value, 0) === 10, 15_000, "lag of 10").pipe(
          Effect.race(
            Effect.forever(
              Effect.andThen(
                Effect.map(samples, (s) => void (lag = lagOf(s))),
                Effect.sleep("50 millis")
              )
            )
          )
        )
        assert.strictEqual(lag.length, 1, "one partition holds the key")
        yield* Deferred.succeed(gate, undefined)
        yield* eventually(() => handled === 10 && lag.every((x) => x.value === 0), 15_000, "lag back to 0").pipe(
          Effect.race(
            Effect.forever(
              Effect.andThen(
                Effect.map(samples, (s) => void (lag = lagOf(s))),
                Effect.sleep("50 millis")
              )
            )
          )
        )
        const all = yield* samples
        const assigned = all.find((x) => x.name === "troupe_kafka_partitions_assigned" && x.labels.group === name)
        assert.strictEqual(assigned?.value, 4, "the mock cluster auto-creates 4 partitions")
        assert.isTrue(
          all.some((x) => x.name === "troupe_kafka_rebalances_total" && x.labels.group === name && x.value >= 1)
        )
        assert.isTrue(all.some((x) => x.name === "troupe_actor_up" && x.labels.actor === "kafka" && x.value === 1))
      })
    )
  )

  it.live("keeps working when the broker stops answering for a while", () =>
    withKafka(
      Effect.gen(function* () {
        const health = yield* Health
        const name = unique("outage")
        const queue = WorkQueue.make(name, [Ping])
        const seen = new Set<number>()
        // Supervised, as in a service: restarted with backoff if its member crashes.
        yield* Layer.build(
          Consumer.layer({
            from: queue,
            handle: (batch) => Effect.sync(() => batch.forEach((e) => seen.add(e.payload.n)))
          })
        )
        const ready = Effect.map(health.report, (r) => r.ready)
        let isReady = false
        const watch = Effect.forever(
          Effect.andThen(
            Effect.map(ready, (r) => void (isReady = r)),
            Effect.sleep("100 millis")
          )
        )
        yield* eventually(() => isReady, 20_000, "ready").pipe(Effect.race(watch))
        yield* Publisher.publish(queue, Ping, [{ n: 1, key: "a" }])
        yield* eventually(() => seen.has(1), 15_000, "message before the outage")
        broker!.process.kill("SIGSTOP")
        yield* Effect.addFinalizer(() => Effect.sync(() => broker!.process.kill("SIGCONT")))
        yield* eventually(() => !isReady, 20_000, "readiness false while the broker is gone").pipe(Effect.race(watch))
        broker!.process.kill("SIGCONT")
        // The connection actor and the consumer come back on their own.
        yield* eventually(() => isReady, 30_000, "ready again").pipe(Effect.race(watch))
        yield* Publisher.publish(queue, Ping, [{ n: 2, key: "b" }]).pipe(
          Effect.retry({ times: 10, schedule: Schedule.spaced("500 millis") }),
          Effect.orDie
        )
        yield* eventually(() => seen.has(2), 30_000, "message after the outage")
      }),
      { probeInterval: "300 millis", requestTimeout: "1500 millis", connectTimeout: "10 seconds" }
    )
  )
})

describe("kafka configuration", () => {
  const build = (env: Record<string, string>) =>
    Effect.gen(function* () {
      const context = yield* Layer.build(Messaging.layer.pipe(Layer.provide(support)))
      return yield* Transport.use((t) => Effect.succeed(t.kind)).pipe(Effect.provideContext(context))
    }).pipe(Effect.scoped, Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env))), Effect.exit)

  it.live.skipIf(!kafkaAvailable)("Messaging.layer picks Kafka when KAFKA_BROKERS is set, before AMQP_URL", () =>
    Effect.gen(function* () {
      const exit = yield* build({ KAFKA_BROKERS: bootstrap(), AMQP_URL: "amqp://guest:guest@127.0.0.1:5672" })
      assert.deepStrictEqual(exit, Exit.succeed("kafka"))
      assert.deepStrictEqual(yield* build({}), Exit.succeed("memory"))
    })
  )

  it.effect("rejects a bad broker list or incomplete SASL settings, naming the variable", () =>
    Effect.gen(function* () {
      const bad = yield* build({ KAFKA_BROKERS: "kafka-0 kafka-1" })
      assert.isTrue(Exit.isFailure(bad))
      assert.include(String(Exit.isFailure(bad) ? bad.cause : ""), "KAFKA_BROKERS")
      const sasl = yield* build({ KAFKA_BROKERS: "kafka:9092", KAFKA_SASL_MECHANISM: "scram-sha-512" })
      assert.include(String(Exit.isFailure(sasl) ? sasl.cause : ""), "KAFKA_SASL_USERNAME")
    })
  )

  it.live("fails at start, naming the brokers, when none answers", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Layer.build(
          KafkaTransport.layer({ brokers: ["127.0.0.1:1"], startTimeout: "1 second" }).pipe(Layer.provide(support))
        ).pipe(Effect.scoped)
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "cannot connect to KAFKA_BROKERS 127.0.0.1:1")
    })
  )

  it.effect("reads secrets as redacted values", () =>
    Effect.gen(function* () {
      const options = yield* KafkaTransport.config.pipe(
        Effect.provide(
          ConfigProvider.layer(
            ConfigProvider.fromUnknown({
              KAFKA_BROKERS: "kafka-0:9092, kafka-1:9092",
              KAFKA_CLIENT_ID: "purchases",
              KAFKA_SASL_MECHANISM: "scram-sha-512",
              KAFKA_SASL_USERNAME: "purchases",
              KAFKA_SASL_PASSWORD: "s3cret",
              KAFKA_TLS: "true"
            })
          )
        )
      )
      assert.deepStrictEqual(options.brokers, ["kafka-0:9092", "kafka-1:9092"])
      assert.strictEqual(options.clientId, "purchases")
      assert.strictEqual(options.tls, true)
      assert.isTrue(Redacted.isRedacted(options.sasl!.password))
      assert.notInclude(String(options.sasl!.password), "s3cret")
      assert.strictEqual(Redacted.value(options.sasl!.password), "s3cret")
    })
  )
})

describe.skipIf(!kafkaAvailable || !postgresAvailable)("kafka consumer group with PostgreSQL", () => {
  const memberScript = fileURLToPath(new URL("./kafka-member.ts", import.meta.url))

  it.live(
    "a member killed mid-batch: the survivor gets its uncommitted messages, the database shows each effect once",
    () =>
      Effect.gen(function* () {
        const db = yield* Effect.acquireRelease(
          Effect.promise(() => createDatabase()),
          (db) => Effect.promise(db.drop)
        )
        const name = unique("transfers")
        const queue = WorkQueue.make(name, [Transfer])
        const N = 200
        const layer = Layer.mergeAll(
          KafkaTransport.layer(testOptions({ clientId: "survivor" })),
          Database.layer({ service: "kafka-survivor", migrations })
        ).pipe(
          Layer.provideMerge(support),
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: db.url })))
        )
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          // The victim: its own process (migrations already applied above).
          const victim = { assigned: 0, committed: 0, output: "" }
          const proc = yield* Effect.acquireRelease(
            Effect.sync(() =>
              spawn(process.execPath, [memberScript], {
                env: { ...process.env, KAFKA_BROKERS: bootstrap(), DATABASE_URL: db.url, QUEUE: name },
                stdio: ["ignore", "pipe", "pipe"]
              })
            ),
            (p) => Effect.sync(() => p.kill("SIGKILL"))
          )
          proc.stderr!.on("data", (d: Buffer) => (victim.output += d.toString()))
          proc.stdout!.on("data", (d: Buffer) => {
            victim.output += d.toString()
            for (const line of d.toString().split("\n")) {
              if (!line.startsWith("MEMBER ")) continue
              const event = JSON.parse(line.slice(7)) as { assigned?: number; committed?: Array<number> }
              if (event.assigned !== undefined) victim.assigned = event.assigned
              if (event.committed) victim.committed++
            }
          })
          // The survivor: here.
          const attempts: Array<number> = []
          yield* Effect.forkScoped(
            Consumer.run({
              from: queue,
              maxBatch: 20,
              handle: (batch) =>
                Effect.andThen(
                  apply(name, "survivor")(batch),
                  Effect.sync(() => batch.forEach((e) => attempts.push(e.attempt)))
                )
            })
          )
          let survivorAssigned = 0
          const watch = Effect.forever(
            Effect.andThen(
              Effect.map(samples, (s) => {
                survivorAssigned =
                  s.find((x) => x.name === "troupe_kafka_partitions_assigned" && x.labels.group === name)?.value ?? 0
              }),
              Effect.sleep("100 millis")
            )
          )
          yield* eventually(
            () => victim.assigned > 0 && survivorAssigned > 0,
            40_000,
            "both members hold partitions"
          ).pipe(
            Effect.race(watch),
            Effect.tapDefect(() => Effect.sync(() => console.error(victim.output)))
          )
          yield* Publisher.publish(
            queue,
            Transfer,
            Array.from({ length: N }, (_, n) => ({ n, key: `k${n % 40}` }))
          )
          yield* eventually(() => victim.committed >= 2, 30_000, "the victim committed two batches")
          proc.kill("SIGKILL") // mid-batch: it holds a transaction open for every batch
          let distinct = 0
          yield* eventually(() => distinct === N, 40_000, `all ${N} messages applied`).pipe(
            Effect.race(
              Effect.forever(
                Effect.andThen(
                  Effect.map(
                    sql<{ n: number }>`select count(distinct n)::int as n from applied`,
                    (rows) => void (distinct = rows[0]!.n)
                  ),
                  Effect.sleep("100 millis")
                )
              )
            )
          )
          yield* Effect.sleep("500 millis") // late duplicates, if any, would land now
          const rows = yield* sql<{
            n: number
            key: string
            member: string
          }>`select n, key, member from applied order by id`
          assert.strictEqual(rows.length, N, "each message applied exactly once")
          assert.isAbove(rows.filter((r) => r.member === "victim").length, 0, "the victim applied some before it died")
          assert.isTrue(
            attempts.some((a) => a >= 2),
            "the survivor received the victim's uncommitted messages as redeliveries"
          )
          const perKey = new Map<string, Array<number>>()
          for (const r of rows) perKey.set(r.key, [...(perKey.get(r.key) ?? []), r.n])
          for (const [key, ns] of perKey)
            assert.deepStrictEqual(
              ns,
              [...ns].sort((a, b) => a - b),
              `order of key ${key}`
            )
        }).pipe(Effect.provide(layer))
      }).pipe(Effect.scoped),
    90_000
  )
})
