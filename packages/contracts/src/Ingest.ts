/**
 * The ingest service: records come in over HTTP, are acknowledged once the broker holds them
 * (`202 Accepted` with their ids), and a batching worker stores them.
 */
import { Message, WorkQueue } from "@troupe/runtime"
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema } from "effect/http-api"

/** Records per `POST /api/v1/ingest` (one, or an array of up to this many). */
export const maxPerRequest = 100
/** Records per `POST /api/v1/ingest/batch`. */
export const maxPerBatch = 5_000
/** Serialized size of one record's `data`. */
export const maxDataBytes = 16 * 1024

/** A record's type or source: 1 to 64 characters of letters, digits, `.`, `_`, `:` or `-`. */
export const Label = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, {
    message: "must be 1 to 64 characters: letters, digits, '.', '_', ':' or '-'"
  })
)

export const NewRecord = Schema.Struct({
  type: Label,
  source: Label,
  data: Schema.Json.check(
    Schema.makeFilter((d: unknown) => JSON.stringify(d).length <= maxDataBytes, {
      message: `must be at most ${maxDataBytes} bytes of JSON`
    })
  )
})
export type NewRecord = typeof NewRecord.Type

export const IngestRecord = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  source: Schema.String,
  data: Schema.Json,
  received_at: Schema.String,
  stored_at: Schema.String
})

export const Accepted = Schema.Struct({
  status: Schema.Literal("accepted"),
  accepted: Schema.Int,
  ids: Schema.Array(Schema.String)
})

const Count = Schema.Struct({ name: Schema.String, count: Schema.Int })
export const Stats = Schema.Struct({
  total: Schema.Int,
  last_hour: Schema.Int,
  per_minute_last_hour: Schema.Number,
  by_type: Schema.Array(Count),
  by_source: Schema.Array(Count)
})

export const IngestApi = HttpApi.make("ingest")
  .add(
    HttpApiGroup.make("ingest")
      .add(
        HttpApiEndpoint.post("ingest", "/ingest", {
          payload: Schema.Struct({
            records: Schema.Array(NewRecord).check(Schema.isMinLength(1), Schema.isMaxLength(maxPerBatch)),
            /** Names the request: a retry with the same key (and scope, the caller) gets the same record ids, stored once. */
            idempotency_key: Schema.optional(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128))),
            idempotency_scope: Schema.optional(Schema.String.check(Schema.isMaxLength(128)))
          }),
          success: Accepted.pipe(HttpApiSchema.status(202))
        })
      )
      .add(HttpApiEndpoint.get("stats", "/ingest/stats", { success: Stats }))
      .add(
        HttpApiEndpoint.get("recent", "/ingest/recent", {
          query: {
            limit: Schema.optional(
              Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 500 }))
            ),
            type: Schema.optional(Label)
          },
          success: Schema.Array(IngestRecord)
        })
      )
  )
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotate(HttpApi.ParseOptions, { errors: "all" })

/** One record on its way from the API to the worker. */
export const RecordReceived = Message.make(
  "ingest.record.received",
  Schema.Struct({
    id: Schema.String,
    type: Schema.String,
    source: Schema.String,
    data: Schema.Json,
    received_at: Schema.String
  }),
  { key: (r) => r.id }
)

/** The work queue between the ingest API and its batching worker. */
export const Records = WorkQueue.make("ingest.records", [RecordReceived])
