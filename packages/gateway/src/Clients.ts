// Typed clients of the services behind the gateway.
import { Accounts, Ingest, Jobs, Notifications, Purchases, Users } from "@microbank/contracts"
import * as ServiceClient from "@troupe/runtime/ServiceClient"
import { Context, Effect, Layer } from "effect"
import { GatewayConfig } from "./Config.ts"

const make = Effect.gen(function* () {
  const config = yield* GatewayConfig
  return {
    users: yield* ServiceClient.make(Users.UsersApi, { service: "users", url: config.usersUrl }),
    accounts: yield* ServiceClient.make(Accounts.AccountsApi, { service: "accounts", url: config.accountsUrl }),
    notifications: yield* ServiceClient.make(Notifications.NotificationsApi, {
      service: "notifications",
      url: config.notificationsUrl
    }),
    ingest: yield* ServiceClient.make(Ingest.IngestApi, { service: "ingest", url: config.ingestUrl }),
    jobs: yield* ServiceClient.make(Jobs.JobsApi, { service: "jobs", url: config.jobsUrl }),
    purchases: yield* ServiceClient.make(Purchases.PurchasesApi, { service: "purchases", url: config.purchasesUrl })
  }
})

export class Clients extends Context.Service<Clients, Effect.Success<typeof make>>()("gateway/Clients") {
  static readonly layer = Layer.effect(this, make).pipe(Layer.provide(ServiceClient.layerHttpClient))
}
