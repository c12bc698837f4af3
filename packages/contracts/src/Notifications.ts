/**
 * The notifications service: its internal HTTP API (called by the gateway).
 */
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware } from "effect/http-api"

export const Notification = Schema.Struct({
  id: Schema.String,
  user_id: Schema.String,
  kind: Schema.String,
  message: Schema.String,
  created_at: Schema.String
})
export type Notification = typeof Notification.Type

export const NotificationsApi = HttpApi.make("notifications")
  .add(
    HttpApiGroup.make("notifications")
      .add(
        HttpApiEndpoint.get("list", "/notifications", {
          query: {
            user_id: Schema.optional(Schema.String),
            limit: Schema.optional(
              Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 200 }))
            ),
            after: Schema.optional(Schema.String.check(Schema.isMaxLength(64)))
          },
          success: Schema.Array(Notification)
        })
      )
      .add(
        HttpApiEndpoint.get("stats", "/notifications/stats", { success: Schema.Struct({ notifications: Schema.Int }) })
      )
  )
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotate(HttpApi.ParseOptions, { errors: "all" })
