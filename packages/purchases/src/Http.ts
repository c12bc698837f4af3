// The purchases service's HTTP API.
import { Purchases as Contract } from "@microbank/contracts"
import { ServiceHost } from "@troupe/runtime"
import { Effect, Layer } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { Purchases } from "./Purchases.ts"

const Handlers = HttpApiBuilder.group(Contract.PurchasesApi, "purchases", (handlers) =>
  Effect.gen(function* () {
    const purchases = yield* Purchases
    return handlers
      .handle("buy", ({ payload }) =>
        purchases.buy({
          username: payload.username,
          userid: payload.userid,
          priceMinor: payload.price_minor,
          idempotencyKey: payload.idempotency_key
        })
      )
      .handle("list", ({ params }) => purchases.list(params.userid))
      .handle("stats", () => Effect.map(purchases.count, (n) => ({ purchases: n })))
  })
)

export const layer = ServiceHost.layer({
  name: "purchases",
  version: "1.0.0",
  port: 8084,
  api: Contract.PurchasesApi
}).pipe(Layer.provide(Handlers))
