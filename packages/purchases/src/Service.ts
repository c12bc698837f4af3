// The whole purchases service as one layer: HTTP, the consumer group, database.
import { Database, Inbox, Messaging, ServiceHost } from "@troupe/runtime"
import { Layer } from "effect"
import * as Http from "./Http.ts"
import { migrations } from "./migrations.ts"
import { Purchases, Recorder } from "./Purchases.ts"

export const database = Database.layer({ service: "purchases", migrations })

export const layer = Layer.mergeAll(Http.layer, Recorder, Inbox.retention()).pipe(
  Layer.provide(Purchases.layer),
  Layer.provide(Layer.fresh(Messaging.layer)),
  Layer.provide(database),
  ServiceHost.provide("purchases")
)
