/**
 * Inbox: makes a consumer's effect exactly-once. `dedupe` wraps a batch handler in one
 * database transaction that first records the message ids for the consumer — ids already
 * recorded are skipped — then runs the handler on the new ones. The records and the
 * handler's writes commit together, so a redelivered message changes the database once.
 *
 * @example
 * ```ts
 * handle: Inbox.dedupe("notifications", (batch) => NotificationStore.insertAll(batch))
 * ```
 */
import { Duration, Effect, Layer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as Actor from "./Actor.ts"
import type { Health } from "./Health.ts"
import type * as Message from "./Message.ts"
import { Metrics } from "./Metrics.ts"

/**
 * Wraps a batch handler so each message id is handled once per `consumer`, atomically with the handler's writes.
 */
export const dedupe =
  <Env extends Message.Envelope<string, any>, E, R>(
    consumer: string,
    handle: (batch: ReadonlyArray<Env>) => Effect.Effect<void, E, R>
  ) =>
  (batch: ReadonlyArray<Env>): Effect.Effect<void, E | SqlError.SqlError, R | SqlClient.SqlClient | Metrics> =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const duplicates = (yield* Metrics).counter(
        "troupe_inbox_duplicates_total",
        "Redelivered messages skipped by the inbox",
        ["consumer"]
      )
      duplicates.inc({ consumer }, 0)
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const fresh = yield* sql<{ message_id: string }>`
            insert into troupe_inbox (consumer, message_id)
            select ${consumer}, unnest(${batch.map((e) => e.id)}::uuid[])
            on conflict do nothing returning message_id::text as message_id`
          const ids = new Set(fresh.map((r) => r.message_id))
          const todo = batch.filter((e) => ids.has(e.id))
          if (todo.length < batch.length) duplicates.inc({ consumer }, batch.length - todo.length)
          if (todo.length > 0) yield* handle(todo)
        })
      )
    })

/**
 * Deletes inbox records older than `retention` (default 7 days) once an hour. Redeliveries
 * come within minutes; the records only need to outlive them.
 */
export const retention = (
  retention: Duration.Input = "7 days"
): Layer.Layer<never, never, SqlClient.SqlClient | Metrics | Health> =>
  Actor.layer("inbox-retention", (ready) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const seconds = Duration.toSeconds(Duration.fromInputUnsafe(retention))
      yield* ready
      while (true) {
        yield* sql`delete from troupe_inbox where handled_at < now() - ${`${seconds} seconds`}::interval`
        yield* Effect.sleep("1 hour")
      }
    })
  )
