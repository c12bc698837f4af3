/**
 * Transactional outbox: `publish` writes the message into the service's own database in
 * the caller's transaction, so it is stored if and only if the state change commits.
 * The relay — a supervised actor, one active per database through an expiring lease —
 * publishes stored messages in order with broker confirms and deletes them only after
 * the broker confirmed. A crash between confirm and delete re-publishes (consumers
 * dedupe by message id with `Inbox`); a broker outage leaves rows waiting, nothing is lost.
 *
 * @example
 * ```ts
 * yield* sql.withTransaction(Effect.gen(function* () {
 *   yield* sql`update accounts set balance = ${balance} where id = ${id}`
 *   yield* Outbox.publish(BankingEvents, TransactionCompleted, event)
 * }))
 * ```
 */
import { Clock, Duration, Effect, Fiber, Layer, Option, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { hostname } from "node:os"
import * as Actor from "./Actor.ts"
import type { Health } from "./Health.ts"
import { uuidv7 } from "./internal/uuid.ts"
import * as Message from "./Message.ts"
import { Metrics } from "./Metrics.ts"
import { address, type Destination, Transport, type TransportError } from "./Transport.ts"

type PayloadOf<M> = M extends Message.Message<any, infer A, any> ? A : never

const currentTraceparent = Effect.map(Effect.option(Effect.currentSpan), (span) =>
  Option.match(span, {
    onNone: () => undefined,
    onSome: (s) => `00-${s.traceId}-${s.spanId}-${s.sampled ? "01" : "00"}`
  })
)

/**
 * Stores messages for publication in the current transaction (or on their own if there is none).
 */
export const publishAll = <M extends Message.Any, Def extends M>(
  destination: Destination & { readonly messages: ReadonlyArray<M> },
  message: Def,
  payloads: ReadonlyArray<PayloadOf<Def>>
): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError | Schema.SchemaError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    if (payloads.length === 0) return []
    const sql = yield* SqlClient.SqlClient
    const traceparent = yield* currentTraceparent
    const target = address(destination)
    const raws = yield* Message.encodeAll(message, payloads, { traceparent })
    // One statement with array parameters (unnest): a few parameters instead of 8 per row.
    yield* sql`
      insert into troupe_outbox (id, destination_kind, destination, type, key, occurred_at, traceparent, body)
      select unnest(${raws.map((r) => r.id)}::uuid[]), ${target.kind}, ${target.name}, ${message.type},
             unnest(${raws.map((r) => r.key)}::text[]), ${new Date(raws[0]!.occurredAt)}::timestamptz, ${traceparent ?? null}::text,
             unnest(${raws.map((r) => (typeof r.body === "string" ? r.body : new TextDecoder().decode(r.body)))}::text[])`
    return raws.map((raw) => raw.id)
  })

/**
 * Stores one message for publication in the current transaction. Returns its id.
 */
export const publish = <M extends Message.Any, Def extends M>(
  destination: Destination & { readonly messages: ReadonlyArray<M> },
  message: Def,
  payload: PayloadOf<Def>
): Effect.Effect<string, SqlError.SqlError | Schema.SchemaError, SqlClient.SqlClient> =>
  Effect.map(publishAll(destination, message, [payload]), (ids) => ids[0]!)

export interface RelayOptions {
  /** Rows published per round trip. Default 500. */
  readonly batchSize?: number
  /** Wait between polls of an empty outbox. Default 50 ms. */
  readonly pollInterval?: Duration.Input
  /** How long a relay's leadership lasts without renewal. Default 10 s. */
  readonly leaseTtl?: Duration.Input
}

interface Row {
  readonly seq: string
  readonly id: string
  readonly destination_kind: "topic" | "queue"
  readonly destination: string
  readonly type: string
  readonly key: string
  readonly occurred_at: Date
  readonly traceparent: string | null
  readonly body: string
}

const relayLoop = (options: RelayOptions, holder: string, ready: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const transport = yield* Transport
    const metrics = yield* Metrics
    const batchSize = options.batchSize ?? 500
    const poll = Duration.fromInputUnsafe(options.pollInterval ?? "50 millis")
    const ttlMs = Duration.toMillis(Duration.fromInputUnsafe(options.leaseTtl ?? "10 seconds"))
    const published = metrics.counter("troupe_messages_published_total", "Messages confirmed by the broker", [
      "destination",
      "type"
    ])
    const backlog = metrics.gauge(
      "troupe_outbox_backlog",
      "Messages stored in the outbox, not yet confirmed by the broker"
    )
    const oldest = metrics.gauge("troupe_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox message")
    const leader = metrics.gauge("troupe_outbox_relay_leader", "1 while this process holds the outbox relay lease")

    let leaseUntil = 0
    const holdLease: Effect.Effect<boolean, SqlError.SqlError> = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (now < leaseUntil - ttlMs / 2) return true
      const rows = yield* sql<{ holder: string }>`
        insert into troupe_outbox_lease (id, holder, expires_at)
        values (1, ${holder}, now() + ${`${ttlMs} milliseconds`}::interval)
        on conflict (id) do update set holder = excluded.holder, expires_at = excluded.expires_at
        where troupe_outbox_lease.holder = ${holder} or troupe_outbox_lease.expires_at < now()
        returning holder`
      const held = rows.length === 1
      leaseUntil = held ? now + ttlMs : 0
      leader.set(held ? 1 : 0)
      return held
    })

    const publishRows = (rows: ReadonlyArray<Row>): Effect.Effect<void, TransportError> => {
      // Consecutive rows for the same destination go out in one ordered, confirmed publish.
      const groups: Array<Array<Row>> = []
      for (const row of rows) {
        const last = groups[groups.length - 1]
        if (last && last[0]!.destination === row.destination && last[0]!.destination_kind === row.destination_kind)
          last.push(row)
        else groups.push([row])
      }
      return Effect.forEach(
        groups,
        (group) =>
          transport
            .publish(
              { kind: group[0]!.destination_kind, name: group[0]!.destination },
              group.map((row) => ({
                id: row.id,
                type: row.type,
                key: row.key,
                occurredAt: row.occurred_at.getTime(),
                traceparent: row.traceparent ?? undefined,
                body: row.body
              }))
            )
            .pipe(
              Effect.tap(() =>
                Effect.sync(() => {
                  const byType = new Map<string, number>()
                  for (const row of group) byType.set(row.type, (byType.get(row.type) ?? 0) + 1)
                  for (const [type, n] of byType) published.inc({ destination: group[0]!.destination, type }, n)
                })
              )
            ),
        { discard: true }
      )
    }

    // Pipelined: up to `depth` batches are being confirmed while the next one is read and
    // sent. Batches go out in seq order on one channel, so per-key order holds; reads
    // continue after the last seq sent, and once the pipeline is empty the next read starts
    // from the head again (catching rows committed late with a lower seq). Rows are deleted
    // only once the broker confirmed them.
    const depth = 2
    let cursor = "0"
    const pending: Array<Fiber.Fiber<void, TransportError | SqlError.SqlError>> = []
    const settleOldest = Effect.suspend(() => Fiber.join(pending.shift()!))
    yield* ready
    while (true) {
      if (!(yield* holdLease)) {
        while (pending.length > 0) yield* settleOldest
        yield* Effect.sleep(Duration.millis(ttlMs / 4))
        continue
      }
      const rows = yield* sql<Row>`
        select seq::text as seq, id::text as id, destination_kind, destination, type, key, occurred_at, traceparent, body
        from troupe_outbox where seq > ${cursor}::bigint
        order by troupe_outbox.seq limit ${batchSize}`
      if (rows.length === 0) {
        if (pending.length > 0 || cursor !== "0") {
          while (pending.length > 0) yield* settleOldest
          cursor = "0"
          continue
        }
        backlog.set(0)
        oldest.set(0)
        yield* Effect.sleep(poll)
        continue
      }
      const seqs = rows.map((row) => row.seq)
      cursor = seqs[seqs.length - 1]!
      const batch = publishRows(rows).pipe(
        Effect.andThen(sql`delete from troupe_outbox where seq = any(${seqs}::bigint[])`),
        Effect.asVoid
      )
      pending.push(yield* Effect.forkChild(batch))
      if (pending.length >= depth) yield* settleOldest
    }
  })

// Backlog and age of the outbox every 5 s, apart from the relay: they stay true while the
// relay is failing or restarting, which is when they matter.
const measureLoop = (ready: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const metrics = yield* Metrics
    const backlog = metrics.gauge(
      "troupe_outbox_backlog",
      "Messages stored in the outbox, not yet confirmed by the broker"
    )
    const oldest = metrics.gauge("troupe_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox message")
    yield* ready
    while (true) {
      const [row] = yield* sql<{ n: number; age: number | null }>`
        select count(*)::int as n, extract(epoch from now() - min(occurred_at))::float8 as age from troupe_outbox`
      backlog.set(row?.n ?? 0)
      oldest.set(row?.age ?? 0)
      yield* Effect.sleep("5 seconds")
    }
  })

/**
 * The outbox relay of a service, supervised as `actor:outbox-relay`.
 */
export const relay = (
  options: RelayOptions = {}
): Layer.Layer<never, never, SqlClient.SqlClient | Transport | Metrics | Health> =>
  Layer.unwrap(
    Effect.sync(() => {
      // One identity per relay for the process's lifetime, so a restarted loop keeps its lease.
      const holder = `${hostname()}/${process.pid}/${uuidv7()}`
      return Layer.mergeAll(
        Actor.layer("outbox-relay", (ready) => relayLoop(options, holder, ready)),
        Actor.layer("outbox-metrics", measureLoop)
      )
    })
  )
