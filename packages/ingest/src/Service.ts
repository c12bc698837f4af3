// The whole ingest service as one layer: HTTP (API and pages), the batching worker, database.
import { Database, Inbox, Messaging, ServiceHost } from "@troupe/runtime"
import { Layer } from "effect"
import * as Http from "./Http.ts"
import { Ingest, Worker } from "./Ingest.ts"
import { migrations } from "./migrations.ts"

export const database = Database.layer({ service: "ingest", migrations })

export const layer = Layer.mergeAll(Http.layer, Worker, Inbox.retention()).pipe(
  Layer.provide(Ingest.layer),
  Layer.provide(Layer.fresh(Messaging.layer)),
  Layer.provide(database),
  ServiceHost.provide("ingest")
)
