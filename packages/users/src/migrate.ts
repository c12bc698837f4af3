// Applies the users database migrations and exits (the Kubernetes PreSync job).
import { ServiceHost } from "@troupe/runtime"
import * as Service from "./Service.ts"

ServiceHost.runOnce("users", Service.database)
