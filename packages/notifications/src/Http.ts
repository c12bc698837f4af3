// The notifications service's HTTP API.
import { Notifications as Contract } from "@microbank/contracts"
import { ServiceHost } from "@troupe/runtime"
import { Effect, Layer } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { NotificationStore } from "./Notifications.ts"

const Handlers = HttpApiBuilder.group(Contract.NotificationsApi, "notifications", (handlers) =>
  Effect.gen(function* () {
    const store = yield* NotificationStore
    return handlers
      .handle("list", ({ query }) => store.list(query.user_id, query.limit ?? 50, query.after))
      .handle("stats", () => Effect.map(store.count, (n) => ({ notifications: n })))
  })
)

export const layer = ServiceHost.layer({
  name: "notifications",
  version: "1.0.0",
  port: 8083,
  api: Contract.NotificationsApi
}).pipe(Layer.provide(Handlers))
