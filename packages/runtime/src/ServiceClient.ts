/**
 * Typed HTTP clients for calling other services' `HttpApi`s: base URL(s) from config (several,
 * comma-separated, are balanced round-robin), the current request id forwarded as
 * `x-request-id`, a per-call timeout, pooled keep-alive connections (undici), and every
 * transport failure — connection refused, timeout, an answer that is not in the API —
 * reported as one `ServiceUnreachable` error naming the service, never its internals.
 * Errors the API declares (404, 409 ...) pass through unchanged.
 *
 * @example
 * ```ts
 * const users = yield* ServiceClient.make(UsersApi, { service: "users", url: "http://users:8080" })
 * const user = yield* users.users.get({ params: { id } })
 * ```
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, type Layer, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { type HttpApi, HttpApiClient, type HttpApiGroup } from "effect/http-api"
import { RequestId } from "./internal/requestId.ts"

/** A downstream service could not be reached or answered outside its API. */
export class ServiceUnreachable extends Schema.TaggedError<ServiceUnreachable>()("ServiceUnreachable", {
  service: Schema.String,
  message: Schema.String
}) {}

export interface Options {
  /** Name used in errors and logs. */
  readonly service: string
  /** Base URL; several, comma-separated, are used round-robin (replicas without a load balancer). */
  readonly url: string
}

/** What a client call can fail with besides the API's declared errors. */
export type TransportFailure = { readonly _tag: "HttpClientError" | "SchemaError" | "TimeoutError" }

const transportTags = new Set(["HttpClientError", "SchemaError", "TimeoutError"])

/**
 * Wraps a client call: a per-call timeout, and transport failures replaced by
 * `ServiceUnreachable` (logged with the cause).
 */
export const guard =
  (service: string, timeout: Duration.Input = "10 seconds") =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, TransportFailure> | ServiceUnreachable, R> =>
    effect.pipe(
      Effect.timeout(Duration.fromInputUnsafe(timeout)),
      Effect.catch((e: unknown) =>
        transportTags.has((e as { _tag?: string })?._tag ?? "")
          ? Effect.andThen(
              Effect.logWarning(
                `call to ${service} failed: ${(e as { message?: string }).message ?? (e as { _tag: string })._tag}`
              ),
              Effect.fail(new ServiceUnreachable({ service, message: `${service} is unavailable` }))
            )
          : Effect.fail(e)
      )
    ) as Effect.Effect<A, Exclude<E, TransportFailure> | ServiceUnreachable, R>

const nextUrl = (urls: string) => {
  const list = urls
    .split(",")
    .map((u) => u.trim().replace(/\/$/, ""))
    .filter((u) => u.length > 0)
  let i = 0
  return (): string => list[i++ % list.length]!
}

/**
 * Builds a typed client; wrap its calls with `guard`. Needs an `HttpClient` (see
 * `layerHttpClient`) for as long as it is used.
 */
export const make = <ApiId extends string, Groups extends HttpApiGroup.Constraint>(
  api: HttpApi.HttpApi<ApiId, Groups>,
  options: Options
) =>
  Effect.gen(function* () {
    const next = nextUrl(options.url)
    const client = yield* HttpApiClient.make(api, {
      transformClient: (client) =>
        client.pipe(
          // A read that fails before any answer (a keep-alive connection closed under it) is safe to
          // send again, to the next replica; writes are not retried here.
          HttpClient.transform((effect, request) =>
            request.method === "GET"
              ? Effect.retry(effect, {
                  times: 2,
                  while: (e) => e._tag === "HttpClientError" && e.reason._tag === "TransportError"
                })
              : effect
          ),
          HttpClient.mapRequest((request) => HttpClientRequest.prependUrl(request, next())),
          HttpClient.mapRequestEffect((request) =>
            Effect.gen(function* () {
              const id = yield* RequestId
              return id ? HttpClientRequest.setHeader(request, "x-request-id", id) : request
            })
          )
        )
    })
    return client
  })

/** Pooled keep-alive HTTP connections for service clients, closed with the service. */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici
