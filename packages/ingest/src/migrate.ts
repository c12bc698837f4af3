// Applies the ingest database migrations and exits (the Kubernetes PreSync job).
import { ServiceHost } from "@troupe/runtime"
import * as Service from "./Service.ts"

ServiceHost.runOnce("ingest", Service.database)
