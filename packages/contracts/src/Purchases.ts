/**
 * The purchases service (seed 003): a purchase is published to the Kafka topic `purchases`
 * keyed by user id, and a consumer group stores it.
 */
import { Message, Topic } from "@troupe/runtime"
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema } from "effect/http-api"
import { MinorUnits } from "./Money.ts"

export const PurchaseData = Schema.Struct({
  id: Schema.String,
  username: Schema.String,
  userid: Schema.String,
  price: Schema.Number,
  timestamp: Schema.Number
})

/** Seed 003's answer to `POST /api/v1/buy`. */
export const Recorded = Schema.Struct({
  status: Schema.Literal("success"),
  message: Schema.Literal("Purchase recorded"),
  data: PurchaseData
})

export const Purchase = Schema.Struct({
  id: Schema.String,
  userid: Schema.String,
  username: Schema.String,
  price: Schema.Number,
  price_minor: Schema.Int,
  timestamp: Schema.Number,
  stored_at: Schema.String
})

export const PurchasesApi = HttpApi.make("purchases")
  .add(
    HttpApiGroup.make("purchases")
      .add(
        HttpApiEndpoint.post("buy", "/buy", {
          payload: Schema.Struct({
            username: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64)),
            userid: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64)),
            price_minor: MinorUnits,
            /** Names the purchase: a retry with the same key is the same purchase, stored once. */
            idempotency_key: Schema.optional(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128)))
          }),
          success: Recorded.pipe(HttpApiSchema.status(202))
        })
      )
      .add(
        HttpApiEndpoint.get("list", "/purchases/:userid", {
          params: { userid: Schema.String.check(Schema.isMaxLength(64)) },
          success: Schema.Array(Purchase)
        })
      )
      .add(HttpApiEndpoint.get("stats", "/purchases/stats", { success: Schema.Struct({ purchases: Schema.Int }) }))
  )
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotate(HttpApi.ParseOptions, { errors: "all" })

export const PurchaseRecorded = Message.make(
  "purchase.recorded",
  Schema.Struct({
    id: Schema.String,
    userid: Schema.String,
    username: Schema.String,
    price_minor: Schema.Int,
    timestamp: Schema.Number
  }),
  { key: (p) => p.userid }
)

/** Kafka topic `purchases`, keyed by user id: one user's purchases stay in order. */
export const PurchasesTopic = Topic.make("purchases", [PurchaseRecorded])
