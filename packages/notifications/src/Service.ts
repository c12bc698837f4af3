// The whole notifications service as one layer: HTTP, the event listener, database.
import { Database, Inbox, Messaging, ServiceHost } from "@troupe/runtime"
import { Layer } from "effect"
import * as Http from "./Http.ts"
import { migrations } from "./migrations.ts"
import { Listener, NotificationStore } from "./Notifications.ts"

export const database = Database.layer({ service: "notifications", migrations })

export const layer = Layer.mergeAll(Http.layer, Listener, Inbox.retention()).pipe(
  Layer.provide(NotificationStore.layer),
  Layer.provide(Layer.fresh(Messaging.layer)),
  Layer.provide(database),
  ServiceHost.provide("notifications")
)
