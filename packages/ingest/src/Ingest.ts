/**
 * Ingestion: the API gives each record an id and hands it to the broker (`202` only after the
 * broker confirmed, so an accepted record is never lost); the worker stores records in
 * batches — one multi-row insert per batch, exactly once per record id.
 */
import { Ingest as Contract } from "@microbank/contracts"
import { Consumer, Inbox, Metrics, Publisher, Transport } from "@troupe/runtime"
import * as Id from "@troupe/runtime/Id"
import { Clock, Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

interface Row {
  readonly id: string
  readonly type: string
  readonly source: string
  readonly data: unknown
  readonly received_at: Date
  readonly stored_at: Date
}

const toRecord = (r: Row): typeof Contract.IngestRecord.Type => ({
  id: r.id,
  type: r.type,
  source: r.source,
  data: r.data as typeof Contract.IngestRecord.Type.data,
  received_at: new Date(r.received_at).toISOString(),
  stored_at: new Date(r.stored_at).toISOString()
})

export class Ingest extends Context.Service<
  Ingest,
  {
    /**
     * Hands the records to the broker and answers their ids. With an idempotency key the ids are
     * derived from (scope, key, position, record): a retry of the request gets the same ids, and the
     * worker stores each id once.
     */
    readonly accept: (
      records: ReadonlyArray<Contract.NewRecord>,
      idempotencyKey?: string | undefined,
      idempotencyScope?: string | undefined
    ) => Effect.Effect<ReadonlyArray<string>>
    readonly stats: Effect.Effect<typeof Contract.Stats.Type>
    readonly recent: (
      limit: number,
      type: string | undefined
    ) => Effect.Effect<ReadonlyArray<typeof Contract.IngestRecord.Type>>
  }
>()("ingest/Ingest") {
  static readonly layer = Layer.effect(
    this,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const context = yield* Effect.context<Transport.Transport | Metrics.Metrics>()
      const metrics = yield* Metrics.Metrics
      const accepted = metrics.counter("microbank_ingest_accepted_total", "Records accepted by the ingest API")
      return Ingest.of({
        accept: (records, idempotencyKey, idempotencyScope) =>
          Effect.gen(function* () {
            const now = new Date(yield* Clock.currentTimeMillis).toISOString()
            const idOf = (r: Contract.NewRecord, i: number) =>
              idempotencyKey === undefined
                ? Id.uuidv7()
                : Id.fromName(`ingest:${idempotencyScope ?? ""}:${idempotencyKey}:${i}:${JSON.stringify(r)}`)
            const messages = records.map((r, i) => ({ ...r, id: idOf(r, i), received_at: now }))
            // Confirmed by the broker before we answer: a 202 is a promise we can keep.
            yield* Publisher.publish(Contract.Records, Contract.RecordReceived, messages)
            accepted.inc(messages.length)
            return messages.map((m) => m.id)
          }).pipe(Effect.orDie, Effect.provide(context)),
        stats: Effect.orDie(
          Effect.gen(function* () {
            // one snapshot for the three queries: the totals and the breakdowns agree while the worker inserts
            yield* sql`set transaction isolation level repeatable read`
            const [totals] = yield* sql<{ total: number; last_hour: number }>`
              select count(*)::int as total,
                     count(*) filter (where received_at > now() - interval '1 hour')::int as last_hour
              from records`
            const byType = yield* sql<{ name: string; count: number }>`
              select type as name, count(*)::int as count from records group by type order by count desc, type limit 100`
            const bySource = yield* sql<{ name: string; count: number }>`
              select source as name, count(*)::int as count from records group by source order by count desc, source limit 100`
            return {
              total: totals!.total,
              last_hour: totals!.last_hour,
              per_minute_last_hour: Math.round((totals!.last_hour / 60) * 100) / 100,
              by_type: byType,
              by_source: bySource
            }
          }).pipe(sql.withTransaction)
        ),
        recent: (limit, type) =>
          Effect.orDie(
            Effect.map(
              type === undefined
                ? sql<Row>`select * from records order by received_at desc, id desc limit ${limit}`
                : sql<Row>`select * from records where type = ${type} order by received_at desc, id desc limit ${limit}`,
              (rows) => rows.map(toRecord)
            )
          )
      })
    })
  )
}

/** The batching worker of queue `ingest.records`. */
export const Worker = Consumer.layer({
  from: Contract.Records,
  maxBatch: 500,
  concurrency: 2,
  handle: Inbox.dedupe("ingest-worker", (batch) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const metrics = yield* Metrics.Metrics
      const records = batch.map((e) => e.payload)
      yield* sql`
        insert into records (id, type, source, data, received_at)
        select * from unnest(${records.map((r) => r.id)}::uuid[], ${records.map((r) => r.type)}::text[],
                             ${records.map((r) => r.source)}::text[], ${records.map((r) => JSON.stringify(r.data))}::jsonb[],
                             ${records.map((r) => r.received_at)}::timestamptz[])
        on conflict (id) do nothing`
      metrics.counter("microbank_ingested_records_total", "Records stored by the ingest worker").inc(records.length)
    })
  )
})
