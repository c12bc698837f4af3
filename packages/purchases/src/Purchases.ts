/**
 * Purchases (seed 003): `buy` publishes `purchase.recorded` to the topic `purchases` keyed by
 * user id and answers once the broker confirmed it (Kafka `acks=-1` in stack mode); the
 * consumer group `purchases` stores each purchase exactly once. With an idempotency key the
 * purchase id is derived from (user id, key), so a client's retry is the same purchase.
 */
import { Purchases as Contract } from "@microbank/contracts"
import { Consumer, Inbox, Metrics, Publisher, type Transport } from "@troupe/runtime"
import * as Id from "@troupe/runtime/Id"
import { Clock, Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

interface Row {
  readonly id: string
  readonly userid: string
  readonly username: string
  readonly price_minor: bigint | number
  readonly purchased_at: Date
  readonly stored_at: Date
}

const toPurchase = (r: Row): typeof Contract.Purchase.Type => ({
  id: r.id,
  userid: r.userid,
  username: r.username,
  price: Number(r.price_minor) / 100,
  price_minor: Number(r.price_minor),
  timestamp: new Date(r.purchased_at).getTime() / 1000,
  stored_at: new Date(r.stored_at).toISOString()
})

export class Purchases extends Context.Service<
  Purchases,
  {
    readonly buy: (input: {
      readonly username: string
      readonly userid: string
      readonly priceMinor: number
      readonly idempotencyKey?: string | undefined
    }) => Effect.Effect<typeof Contract.Recorded.Type>
    readonly list: (userid: string) => Effect.Effect<ReadonlyArray<typeof Contract.Purchase.Type>>
    readonly count: Effect.Effect<number>
  }
>()("purchases/Purchases") {
  static readonly layer = Layer.effect(
    this,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const context = yield* Effect.context<Transport.Transport | Metrics.Metrics>()
      return Purchases.of({
        buy: (input) =>
          Effect.gen(function* () {
            const timestamp = (yield* Clock.currentTimeMillis) / 1000
            const purchase = {
              // A retried purchase (same key) gets the first one's id, and the consumer stores it once.
              id:
                input.idempotencyKey === undefined
                  ? Id.uuidv7()
                  : Id.fromName(`purchase:${input.userid}:${input.idempotencyKey}`),
              userid: input.userid,
              username: input.username,
              price_minor: input.priceMinor,
              timestamp
            }
            yield* Publisher.publish(Contract.PurchasesTopic, Contract.PurchaseRecorded, [purchase])
            return {
              status: "success" as const,
              message: "Purchase recorded" as const,
              data: {
                id: purchase.id,
                username: input.username,
                userid: input.userid,
                price: input.priceMinor / 100,
                timestamp
              }
            }
          }).pipe(Effect.orDie, Effect.provide(context)),
        list: (userid) =>
          Effect.orDie(
            Effect.map(
              sql<Row>`select * from purchases where userid = ${userid} order by purchased_at desc, id desc limit 500`,
              (rows) => rows.map(toPurchase)
            )
          ),
        count: Effect.orDie(Effect.map(sql<{ n: number }>`select count(*)::int as n from purchases`, ([r]) => r!.n))
      })
    })
  )
}

/** The consumer group `purchases` on the topic `purchases`. */
export const Recorder = Consumer.layer({
  from: Contract.PurchasesTopic,
  name: "purchases",
  maxBatch: 200,
  concurrency: 4,
  handle: Inbox.dedupe("purchases", (batch) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const metrics = yield* Metrics.Metrics
      const rows = batch.map((e) => e.payload)
      const stored = yield* sql<{ price_minor: bigint | number }>`
        insert into purchases (id, userid, username, price_minor, purchased_at)
        select id, userid, username, price_minor, to_timestamp(ts)
        from unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.userid)}::text[], ${rows.map((r) => r.username)}::text[],
                    ${rows.map((r) => r.price_minor)}::bigint[], ${rows.map((r) => r.timestamp)}::float8[])
             as t(id, userid, username, price_minor, ts)
        on conflict (id) do nothing
        returning price_minor`
      metrics.counter("microbank_purchases_total", "Purchases stored").inc(stored.length)
      metrics
        .counter("microbank_purchase_amount_minor_total", "Money spent in purchases, in minor units")
        .inc(stored.reduce((sum, r) => sum + Number(r.price_minor), 0))
    })
  )
})
