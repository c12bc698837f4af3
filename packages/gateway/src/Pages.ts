/**
 * Seed 000's public pages, `/save?data=…` and `/view`, forwarded to the ingest service that
 * owns them (HTML, escaped there). `/save` writes, so it is rate limited per client address.
 */
import { ServiceHost } from "@troupe/runtime"
import * as ServiceClient from "@troupe/runtime/ServiceClient"
import { Effect, Layer, Option } from "effect"
import { HttpClient, HttpClientRequest, HttpRouter, HttpServerResponse } from "effect/http"
import { GatewayConfig } from "./Config.ts"
import * as RateLimiter from "./RateLimiter.ts"

export const routes = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const config = yield* GatewayConfig
    const client = yield* HttpClient.HttpClient
    const base = config.ingestUrl.split(",")[0]!.trim().replace(/\/$/, "")
    const saves = RateLimiter.make(config.authLimitPerMinute)
    const forward = (path: "/save" | "/view") =>
      router.add("GET", path, (request) =>
        Effect.gen(function* () {
          if (path === "/save") {
            const address = Option.getOrElse(request.remoteAddress, () => "unknown")
            const limited = yield* Effect.flip(saves.take(address)).pipe(Effect.option)
            if (Option.isSome(limited)) {
              return HttpServerResponse.setHeader(
                ServiceHost.problem(429, "Too Many Requests", "too many saves from this address; try again shortly"),
                "retry-after",
                String(limited.value)
              )
            }
          }
          const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : ""
          const response = yield* client.execute(HttpClientRequest.get(`${base}${path}${query}`))
          const body = yield* response.text
          return HttpServerResponse.text(body, {
            status: response.status,
            contentType: response.headers["content-type"] ?? "text/html; charset=utf-8"
          })
        }).pipe(
          Effect.timeout("10 seconds"),
          Effect.catch(() => Effect.succeed(ServiceHost.problem(503, "Service Unavailable", "ingest is unavailable")))
        )
      )
    yield* forward("/save")
    yield* forward("/view")
  })
).pipe(Layer.provide(ServiceClient.layerHttpClient))
