import { ServiceHost } from "@troupe/runtime"
import * as Service from "./Service.ts"

ServiceHost.run(Service.layer)
