// The whole gateway as one layer. It has no database and no broker.
import { ServiceHost } from "@troupe/runtime"
import * as Http from "./Http.ts"

export const layer = Http.layer.pipe(ServiceHost.provide("gateway"))
