// The whole jobs service as one layer: HTTP, the workflows and their engine, database.
import { Database, ServiceHost } from "@troupe/runtime"
import { Layer } from "effect"
import * as Http from "./Http.ts"
import { JobsRepo } from "./JobsRepo.ts"
import { migrations } from "./migrations.ts"
import { Work } from "./Work.ts"
import * as Workflows from "./Workflows.ts"

export const database = Database.layer({ service: "jobs", migrations })

export const layer = Layer.mergeAll(Http.layer, Http.JobGauges).pipe(
  Layer.provide(Workflows.layer),
  Layer.provide(Work.layer),
  Layer.provide(JobsRepo.layer),
  Layer.provide(database),
  ServiceHost.provide("jobs")
)
