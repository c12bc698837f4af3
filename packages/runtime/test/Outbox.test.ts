// Outbox and inbox on real PostgreSQL and on embedded PGlite.
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Ref, Schema, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Consumer from "../src/Consumer.ts"
import * as Database from "../src/Database.ts"
import { Health } from "../src/Health.ts"
import * as Inbox from "../src/Inbox.ts"
import * as MemoryTransport from "../src/MemoryTransport.ts"
import * as Message from "../src/Message.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Outbox from "../src/Outbox.ts"
import * as Topic from "../src/Topic.ts"
import { Transport, TransportError, type TransportShape } from "../src/Transport.ts"
import { eventually } from "./contract.ts"
import { createDatabase, postgresAvailable } from "./services.ts"

const Deposited = Message.make("test.deposited", Schema.Struct({ account: Schema.String, amount: Schema.Int }), {
  key: (e) => e.account
})
const Events = Topic.make("test_events", [Deposited])

const migrations: Database.Migrations = {
  "0001_ledger": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`create table ledger (id serial primary key, account text not null, amount int not null)`
    yield* sql`create table applied (id serial primary key, message_id uuid not null, account text not null, amount int not null)`
  })
}

/** A transport whose publishes can be made to fail, and that can "crash" right after a confirmed publish. */
const flakyTransport = (
  inner: TransportShape,
  mode: Ref.Ref<"ok" | "down" | "crash-after-publish">
): TransportShape => ({
  ...inner,
  publish: (address, messages) =>
    Effect.flatMap(Ref.get(mode), (m) => {
      if (m === "down")
        return Effect.fail(new TransportError({ transport: "test", operation: "publish", message: "broker down" }))
      if (m === "crash-after-publish")
        return Effect.andThen(
          inner.publish(address, messages),
          Effect.andThen(
            Ref.set(mode, "ok"),
            Effect.fail(
              new TransportError({ transport: "test", operation: "publish", message: "crashed after confirm" })
            )
          )
        )
      return inner.publish(address, messages)
    })
})

const suite = (
  name: string,
  skip: boolean,
  setup: () => Promise<{ config: Record<string, string>; teardown: () => Promise<void> }>
) =>
  describe.skipIf(skip)(`outbox and inbox on ${name}`, () => {
    const withDb = <A, E>(
      effect: Effect.Effect<A, E, SqlClient.SqlClient | Health | Metrics | Transport | Scope.Scope>,
      mode?: Ref.Ref<"ok" | "down" | "crash-after-publish">
    ) =>
      Effect.acquireUseRelease(
        Effect.promise(setup),
        ({ config }) =>
          Effect.gen(function* () {
            const memory = MemoryTransport.make()
            const transport = mode ? flakyTransport(memory, mode) : memory
            const layer = Layer.mergeAll(
              Database.layer({ service: "ledger", migrations }),
              Layer.succeed(Transport, transport)
            ).pipe(
              Layer.provideMerge(Layer.mergeAll(Layer.fresh(Health.layer), Metrics.layerTest)),
              Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(config)))
            )
            return yield* Effect.scoped(Effect.provide(effect, layer))
          }),
        ({ teardown }) => Effect.promise(teardown)
      )

    const consumeInto = (name: string) =>
      Consumer.run({
        from: Events,
        name,
        maxBatch: 20,
        handle: Inbox.dedupe(name, (batch) =>
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            yield* sql`insert into applied ${sql.insert(batch.map((e) => ({ message_id: e.id, account: e.payload.account, amount: e.payload.amount })) as any)}`
          })
        )
      })

    it.live("a crash between commit and publish loses nothing", () =>
      withDb(
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          // The state change and its event commit together; no relay runs yet ("crashed").
          yield* sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`insert into ledger (account, amount) values ('a', 10)`
              yield* Outbox.publish(Events, Deposited, { account: "a", amount: 10 })
            })
          )
          // A rolled-back transaction leaves no event behind.
          yield* sql
            .withTransaction(
              Effect.gen(function* () {
                yield* Outbox.publish(Events, Deposited, { account: "b", amount: 99 })
                return yield* Effect.fail("rollback")
              })
            )
            .pipe(Effect.ignore)
          const [{ n }] = yield* sql<{ n: number }>`select count(*)::int as n from troupe_outbox`
          assert.strictEqual(n, 1)
          // The relay comes back and publishes; the consumer applies it.
          yield* Effect.forkScoped(consumeInto("ledger_view"))
          yield* Effect.sleep("200 millis")
          yield* Layer.build(Outbox.relay({ pollInterval: "20 millis" }))
          let applied: ReadonlyArray<{ account: string; amount: number }> = []
          yield* eventually(() => applied.length > 0, 15_000, "applied").pipe(
            Effect.race(
              Effect.forever(
                Effect.andThen(
                  Effect.flatMap(
                    sql<{ account: string; amount: number }>`select account, amount from applied`,
                    (rows) => Effect.sync(() => (applied = rows))
                  ),
                  Effect.sleep("50 millis")
                )
              )
            )
          )
          assert.deepStrictEqual(
            applied.map((r) => [r.account, r.amount]),
            [["a", 10]]
          )
          yield* eventually(() => true)
          const [{ left }] = yield* sql<{ left: number }>`select count(*)::int as left from troupe_outbox`
          yield* Effect.sleep("200 millis")
          const [{ after }] = yield* sql<{ after: number }>`select count(*)::int as after from troupe_outbox`
          assert.isAtMost(left, 1)
          assert.strictEqual(after, 0)
        })
      )
    )

    it.live("a crash after the broker confirmed re-publishes, and the inbox applies it once", () =>
      Effect.gen(function* () {
        const mode = yield* Ref.make<"ok" | "down" | "crash-after-publish">("crash-after-publish")
        yield* withDb(
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            yield* Effect.forkScoped(consumeInto("ledger_once"))
            yield* Effect.sleep("200 millis")
            yield* Outbox.publishAll(Events, Deposited, [
              { account: "a", amount: 1 },
              { account: "a", amount: 2 },
              { account: "b", amount: 3 }
            ])
            yield* Layer.build(Outbox.relay({ pollInterval: "20 millis" }))
            let rows: ReadonlyArray<{ account: string; amount: number }> = []
            const poll = Effect.forever(
              Effect.andThen(
                Effect.flatMap(
                  sql<{ account: string; amount: number }>`select account, amount from applied order by id`,
                  (r) => Effect.sync(() => (rows = r))
                ),
                Effect.sleep("50 millis")
              )
            )
            yield* eventually(() => rows.length >= 3, 15_000, "3 applied").pipe(Effect.race(poll))
            yield* Effect.sleep("1 second") // the re-published copies arrive and are skipped
            const final = yield* sql<{
              account: string
              amount: number
            }>`select account, amount from applied order by id`
            assert.deepStrictEqual(final.map((r) => r.amount).sort(), [1, 2, 3])
            const [{ n }] = yield* sql<{
              n: number
            }>`select count(*)::int as n from troupe_inbox where consumer = 'ledger_once'`
            assert.strictEqual(n, 3)
            const metrics = yield* Metrics
            const text = yield* metrics.render
            assert.match(text, /troupe_inbox_duplicates_total\{consumer="ledger_once",service="test"\} 3/)
          }),
          mode
        )
      })
    )

    it.live("a broker outage leaves messages waiting, then publishes them in order per key", () =>
      Effect.gen(function* () {
        const mode = yield* Ref.make<"ok" | "down" | "crash-after-publish">("down")
        yield* withDb(
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const seen: Array<number> = []
            yield* Effect.forkScoped(
              Consumer.run({
                from: Events,
                name: "ledger_order",
                handle: (batch) => Effect.sync(() => batch.forEach((e) => seen.push(e.payload.amount)))
              })
            )
            yield* Layer.build(Outbox.relay({ pollInterval: "20 millis" }))
            for (let i = 1; i <= 50; i++) yield* Outbox.publish(Events, Deposited, { account: "same", amount: i })
            yield* Effect.sleep("500 millis")
            assert.deepStrictEqual(seen, [])
            const [{ n }] = yield* sql<{ n: number }>`select count(*)::int as n from troupe_outbox`
            assert.strictEqual(n, 50)
            yield* Ref.set(mode, "ok")
            yield* eventually(() => seen.length >= 50, 30_000, "50 after recovery")
            assert.deepStrictEqual(
              seen,
              Array.from({ length: 50 }, (_, i) => i + 1)
            )
          }),
          mode
        )
      })
    )

    it.live("a redelivered message changes the database once", () =>
      withDb(
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const handle = Inbox.dedupe(
            "direct",
            (batch: ReadonlyArray<Message.Envelope<string, { account: string; amount: number }>>) =>
              Effect.asVoid(
                sql`insert into ledger ${sql.insert(batch.map((e) => ({ account: e.payload.account, amount: e.payload.amount })) as any)}`
              )
          )
          const envelope: Message.Envelope<string, { account: string; amount: number }> = {
            id: "01900000-0000-7000-8000-0000000000aa",
            type: "test.deposited",
            key: "z",
            occurredAt: new Date(),
            attempt: 1,
            traceparent: undefined,
            payload: { account: "z", amount: 5 }
          }
          yield* handle([envelope])
          yield* handle([{ ...envelope, attempt: 2 }])
          yield* handle([envelope, { ...envelope, id: "01900000-0000-7000-8000-0000000000ab" }])
          const rows = yield* sql<{ n: number }>`select count(*)::int as n from ledger where account = 'z'`
          assert.strictEqual(rows[0]!.n, 2)
          // A failing handler rolls back its inbox record too, so the retry is not skipped.
          const failing = Inbox.dedupe("direct", () => Effect.fail("boom"))
          const fresh = { ...envelope, id: "01900000-0000-7000-8000-0000000000ac" }
          yield* Effect.ignore(failing([fresh]))
          yield* handle([fresh])
          const after = yield* sql<{ n: number }>`select count(*)::int as n from ledger where account = 'z'`
          assert.strictEqual(after[0]!.n, 3)
        })
      )
    )
  })

suite("PostgreSQL", !postgresAvailable, async () => {
  const db = await createDatabase()
  return { config: { DATABASE_URL: db.url }, teardown: db.drop }
})

suite("PGlite (embedded)", false, async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-pglite-"))
  return { config: { DATA_DIR: dir }, teardown: async () => rmSync(dir, { recursive: true, force: true }) }
})
