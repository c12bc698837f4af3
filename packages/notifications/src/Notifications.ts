/**
 * The notifications domain: one notification per event (`transaction.completed`,
 * `user.created`), stored exactly once (inbox + a unique source message id), listed newest first.
 */
import { Events, Notifications as Contract } from "@microbank/contracts"
import { Consumer, Inbox, Message, Metrics } from "@troupe/runtime"
import * as Id from "@troupe/runtime/Id"
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

interface Row {
  readonly id: string
  readonly user_id: string
  readonly kind: string
  readonly message: string
  readonly created_at: Date
}

const toNotification = (r: Row): Contract.Notification => ({
  id: r.id,
  user_id: r.user_id,
  kind: r.kind,
  message: r.message,
  created_at: new Date(r.created_at).toISOString()
})

type Event = Message.EnvelopeOf<(typeof Events.BankingEvents.messages)[number]>

const notificationFor = (event: Event): { readonly userId: string; readonly kind: string; readonly message: string } =>
  event.type === "user.created"
    ? { userId: event.payload.user_id, kind: "welcome", message: `Welcome to Microbank, ${event.payload.name}!` }
    : { userId: event.payload.user_id, kind: event.payload.transaction_type, message: event.payload.message }

const storedCounter = (metrics: Metrics.MetricsShape) =>
  metrics.counter("microbank_notifications_stored_total", "Notifications stored, by kind", ["kind"])

export class NotificationStore extends Context.Service<
  NotificationStore,
  {
    readonly list: (
      userId: string | undefined,
      limit: number,
      after: string | undefined
    ) => Effect.Effect<ReadonlyArray<Contract.Notification>>
    readonly count: Effect.Effect<number>
  }
>()("notifications/NotificationStore") {
  static readonly layer = Layer.effect(
    this,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      Metrics.startAtZero(storedCounter(yield* Metrics.Metrics), {
        kind: ["welcome", "deposit", "withdrawal", "transfer_in", "transfer_out"]
      })
      const valid = (id: string | undefined) => id !== undefined && /^[0-9a-f-]{36}$/i.test(id)
      return NotificationStore.of({
        // `after` (a notification id; ids are time-ordered) returns only newer ones: the oldest
        // `limit` of them, newest first — so a poller that continues after the newest id it got
        // never skips any, however many arrived in between.
        list: (userId, limit, after) =>
          Effect.orDie(
            Effect.map(
              valid(after)
                ? sql<Row>`
                    select * from (
                      select id, user_id, kind, message, created_at from notifications
                      where ${valid(userId) ? sql`user_id = ${userId!}` : sql`true`} and id > ${after!}::uuid
                      order by id asc limit ${limit}
                    ) newer order by id desc`
                : sql<Row>`
                    select id, user_id, kind, message, created_at from notifications
                    where ${valid(userId) ? sql`user_id = ${userId!}` : sql`true`}
                    order by id desc limit ${limit}`,
              (rows) => rows.map(toNotification)
            )
          ),
        count: Effect.orDie(Effect.map(sql<{ n: number }>`select count(*)::int as n from notifications`, ([r]) => r!.n))
      })
    })
  )
}

/** The consumer of queue `notifications`, bound to `transaction.completed` and `user.created`. */
export const Listener = Consumer.layer({
  from: Events.BankingEvents,
  name: "notifications",
  maxBatch: 100,
  handle: Inbox.dedupe("notifications", (batch: ReadonlyArray<Event>) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const metrics = yield* Metrics.Metrics
      const rows = batch.map((event) => ({ ...notificationFor(event), id: Id.uuidv7(), source: event.id }))
      yield* sql`
        insert into notifications (id, user_id, kind, message, source_message_id)
        select * from unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.userId)}::uuid[],
                             ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.message)}::text[],
                             ${rows.map((r) => r.source)}::uuid[])
        on conflict (source_message_id) do nothing`
      const stored = storedCounter(metrics)
      for (const r of rows) stored.inc({ kind: r.kind })
    })
  )
})
