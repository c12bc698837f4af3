// The whole accounts service as one layer: HTTP, Account actors, ledger, outbox relay, database.
import { Database, Messaging, Outbox, ServiceHost } from "@troupe/runtime"
import { Layer } from "effect"
import { AccountLive, cluster } from "./AccountEntity.ts"
import * as Http from "./Http.ts"
import { Ledger } from "./Ledger.ts"
import { migrations } from "./migrations.ts"

export const database = Database.layer({ service: "accounts", migrations })

export const layer = Http.layer.pipe(
  Layer.provide(AccountLive),
  Layer.provide(cluster),
  Layer.provide(Ledger.layer),
  Layer.provide(Outbox.relay()),
  Layer.provide(Layer.fresh(Messaging.layer)),
  Layer.provide(database),
  ServiceHost.provide("accounts")
)
