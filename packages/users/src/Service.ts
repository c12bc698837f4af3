// The whole users service as one layer: HTTP, domain, outbox relay, database.
import { Database, Messaging, Outbox, ServiceHost } from "@troupe/runtime"
import { Layer } from "effect"
import * as Http from "./Http.ts"
import { migrations } from "./migrations.ts"
import { ensureAdmin, Users } from "./Users.ts"
import { UsersRepo } from "./UsersRepo.ts"

export const database = Database.layer({ service: "users", migrations })

// The admin exists before the service reports ready.
export const layer = Http.layer.pipe(
  Layer.provide(ensureAdmin),
  Layer.provide(Users.layer),
  Layer.provide(UsersRepo.layer),
  Layer.provide(Outbox.relay()),
  Layer.provide(Layer.fresh(Messaging.layer)),
  Layer.provide(database),
  ServiceHost.provide("users")
)
