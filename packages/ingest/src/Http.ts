// The ingest service's HTTP API, plus seed 000's /save and /view pages.
import { Ingest as Contract } from "@microbank/contracts"
import { ServiceHost } from "@troupe/runtime"
import { Effect, Layer } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { Ingest } from "./Ingest.ts"
import * as Pages from "./Pages.ts"

const Handlers = HttpApiBuilder.group(Contract.IngestApi, "ingest", (handlers) =>
  Effect.gen(function* () {
    const ingest = yield* Ingest
    return handlers
      .handle("ingest", ({ payload }) =>
        Effect.map(ingest.accept(payload.records, payload.idempotency_key, payload.idempotency_scope), (ids) => ({
          status: "accepted" as const,
          accepted: ids.length,
          ids
        }))
      )
      .handle("stats", () => ingest.stats)
      .handle("recent", ({ query }) => ingest.recent(query.limit ?? 20, query.type))
  })
)

export const layer = ServiceHost.layer({
  name: "ingest",
  version: "1.0.0",
  port: 8085,
  maxBodyBytes: 5 * 1024 * 1024,
  api: Contract.IngestApi,
  routes: Pages.routes
}).pipe(Layer.provide(Handlers))
