/**
 * The service host: everything a Troupe service needs around its domain code.
 *
 * - HTTP server (`effect/http`) with `GET /health/live`, `GET /health/ready` (checks of the
 *   database, broker and supervised actors; 503 while draining), `GET /api/v1/info`,
 *   `GET /metrics` (Prometheus), and for services with an `HttpApi`: its endpoints,
 *   `/openapi.json` and Swagger UI at `/docs`;
 * - request ids (`x-request-id`, generated when absent) on every log line, JSON logs,
 *   HTTP RED metrics by route template, problem+json bodies for every 4xx/5xx the host
 *   produces, and no internals in 500 responses;
 * - limits against hostile clients: request body size (413, also for chunked bodies), JSON
 *   bodies that are not UTF-8 or nest too deep (400), NUL characters in a body or the URL
 *   (400), path parameters too long or not percent-decodable (400), header size (431), and
 *   clients that send their headers or body too slowly (408, then the connection is closed);
 * - `run`: validates config at start (one clear line naming the problem, exit 1), and on
 *   SIGTERM/SIGINT drains: readiness false → stop accepting → finish in-flight requests and
 *   messages → close connections → exit 0, with a hard deadline.
 *
 * @example
 * ```ts
 * // main.ts
 * Http.layer.pipe(Layer.provide(Accounts.layer), ServiceHost.provide("accounts"), ServiceHost.run)
 * ```
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { ByteSize, Cause, Config, Context, Duration, Effect, type FileSystem, Layer, Logger, References } from "effect"
import { HttpEffect, HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { ServeError } from "effect/http/HttpServerError"
import type * as HttpPlatform from "effect/http/HttpPlatform"
import { type HttpApi, HttpApiBuilder, type HttpApiGroup, HttpApiMiddleware, HttpApiSwagger } from "effect/http-api"
import { createServer } from "node:http"
import { Health } from "./Health.ts"
import { uuidv7 } from "./internal/uuid.ts"
import { jsonLogger } from "./internal/logger.ts"
import { layerProblemDetails } from "./internal/problems.ts"
import { RequestId as RequestIdReference } from "./internal/requestId.ts"
import { SingleWriteResponse } from "./internal/response.ts"
import * as MetricsModule from "./Metrics.ts"
import { Metrics } from "./Metrics.ts"

/** HTTP settings read from the environment. */
export const config = (defaults: { readonly port: number; readonly maxBodyBytes?: number }) =>
  Config.all({
    port: Config.Port("PORT").pipe(Config.withDefault(defaults.port)),
    host: Config.String("HOST").pipe(Config.withDefault("0.0.0.0")),
    maxBodyBytes: Config.Int("MAX_BODY_BYTES").pipe(Config.withDefault(defaults.maxBodyBytes ?? 1024 * 1024)),
    maxJsonDepth: Config.Int("MAX_JSON_DEPTH").pipe(Config.withDefault(64)),
    maxHeaderBytes: Config.Int("HTTP_MAX_HEADER_BYTES").pipe(Config.withDefault(16 * 1024)),
    headersTimeout: Config.Duration("HTTP_HEADERS_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
    requestTimeout: Config.Duration("HTTP_REQUEST_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30))),
    shutdownTimeout: Config.Duration("SHUTDOWN_TIMEOUT").pipe(Config.withDefault(Duration.seconds(20))),
    drainDelay: Config.Duration("SHUTDOWN_DRAIN_DELAY").pipe(Config.withDefault(Duration.zero))
  })

export interface Options<Id extends string = string, Groups extends HttpApiGroup.Constraint = never, R = never> {
  readonly name: string
  readonly version?: string
  /** The port used when `PORT` is not set. */
  readonly port: number
  /** Largest request body accepted when `MAX_BODY_BYTES` is not set. Default 1 MiB. */
  readonly maxBodyBytes?: number
  /** The service's HTTP API, served with OpenAPI at `/openapi.json` and Swagger UI at `/docs`. */
  readonly api?: HttpApi.HttpApi<Id, Groups>
  /** More routes (static files, HTML pages), registered on the same router with the same middleware. */
  readonly routes?: Layer.Layer<
    never,
    Config.ConfigError,
    HttpRouter.HttpRouter | FileSystem.FileSystem | HttpPlatform.HttpPlatform | R
  >
}

const runtimeName = (): string => {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno
  return deno ? `deno ${deno.version.deno}` : `node ${process.versions.node}`
}

/** The id of the HTTP request being handled (from `x-request-id`, or generated); sent on to other services. */
export const RequestId = RequestIdReference

/** An RFC 9457 problem body. */
export const problem = (status: number, title: string, detail?: string) =>
  HttpServerResponse.jsonUnsafe(
    { type: "about:blank", status, title, ...(detail ? { detail } : {}) },
    { status, contentType: "application/problem+json" }
  )

// Error responses without a JSON body (from the router or the API decoder) become problem+json.
const asProblem = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  if (response.status < 400) return response
  const body = response.body
  const contentType = body._tag === "Empty" ? undefined : body.contentType
  if (contentType !== undefined && /json|html/.test(contentType)) return response
  const detail = body._tag === "Uint8Array" ? new TextDecoder().decode(body.body).slice(0, 500) : undefined
  return problem(response.status, HttpStatusText[response.status] ?? "Error", detail || undefined)
}

// A problem that says when to come back (`retry_after_seconds`) says it in `Retry-After` too.
const withRetryAfter = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  if (response.status !== 429 && response.status !== 503) return response
  if (response.headers["retry-after"] !== undefined || response.body._tag !== "Uint8Array") return response
  const seconds = /"retry_after_seconds":(\d+)/.exec(new TextDecoder().decode(response.body.body))
  return seconds ? HttpServerResponse.setHeader(response, "retry-after", seconds[1]!) : response
}

const HttpStatusText: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}

const requestIdPattern = /^[\w.:-]{1,128}$/
const jsonContentType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

const nulRefusal = "the request contains a NUL character (U+0000), which PostgreSQL text cannot hold"

// `\u0000` at `i` (the backslash), in any case of hex digits.
const isEscapedNul = (bytes: Uint8Array, i: number) =>
  bytes[i + 1] === 0x75 &&
  bytes[i + 2] === 0x30 &&
  bytes[i + 3] === 0x30 &&
  bytes[i + 4] === 0x30 &&
  bytes[i + 5] === 0x30

/**
 * Why a JSON request body must be refused before it is parsed (undefined when it is fine):
 * bytes that are not UTF-8 (a lenient decoder would turn them into U+FFFD and accept them),
 * nesting deeper than `maxDepth` (parsers and validators recurse: deep enough, and they
 * overflow the stack), or a NUL character in a string (every service stores text in
 * PostgreSQL, which refuses it: the write would fail with a 500, or a queued message would
 * be dead-lettered after it was accepted). One pass over the bytes.
 */
export const inspectJsonBody = (bytes: Uint8Array, maxDepth: number): string | undefined => {
  try {
    strictUtf8.decode(bytes)
  } catch {
    return "the request body is not valid UTF-8"
  }
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (inString) {
      if (b === 0x5c) {
        if (isEscapedNul(bytes, i)) return nulRefusal
        i++ // backslash: skip the escaped character
      } else if (b === 0x22) inString = false
    } else if (b === 0x22) inString = true
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) return `the request body nests deeper than ${maxDepth} levels`
    } else if (b === 0x5d || b === 0x7d) depth--
  }
  return undefined
}

/**
 * One request header as Node parsed it (`IncomingMessage.headers`, lower-case names): the
 * request's own header record is built on first use, name by name, and costs more than a
 * cheap route does; a liveness probe never needs it.
 */
const headerOf = (request: HttpServerRequest.HttpServerRequest, name: string): string | undefined => {
  const headers = (request.source as { readonly headers?: Record<string, string | Array<string> | undefined> }).headers
  if (headers === undefined || typeof headers !== "object") return request.headers[name]
  const value = headers[name]
  return typeof value === "string" ? value : undefined
}

// The method as a metric label: a constant string (no hashing of a fresh string per request);
// methods outside the standard set share one label, so a client cannot mint new series.
const methodLabel = (method: string): string => {
  switch (method) {
    case "GET":
      return "GET"
    case "HEAD":
      return "HEAD"
    case "POST":
      return "POST"
    case "PUT":
      return "PUT"
    case "PATCH":
      return "PATCH"
    case "DELETE":
      return "DELETE"
    case "OPTIONS":
      return "OPTIONS"
    default:
      return "OTHER"
  }
}

const safeDecodePath = (url: string): boolean => {
  try {
    decodeURIComponent(url.split("?")[0]!)
    return true
  } catch {
    return false
  }
}

/**
 * HTTP RED metrics labelled by route template (never by raw path; `unmatched` for requests no
 * route served), method (`OTHER` for non-standard ones) and status class. The label sets of a
 * route are made on its first request and reused; every status class of a route exists (at 0)
 * from then on, so the first 5xx shows in `rate()`.
 */
const httpMetrics = (metrics: MetricsModule.MetricsShape) => {
  const requests = metrics.counterSeries(
    "troupe_http_requests_total",
    "HTTP requests by route template, method and status class",
    ["route", "method", "status"]
  )
  const duration = metrics.histogramSeries(
    "troupe_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["route", "method"]
  )
  interface Series {
    readonly duration: MetricsModule.HistogramSeries
    /** By status class: index 2 is 2xx ... 5 is 5xx; 1xx is bound when it first happens. */
    readonly byClass: Array<MetricsModule.CounterSeries | undefined>
  }
  const routes = new Map<string, Map<string, Series>>()
  const seriesOf = (route: string, method: string): Series => {
    let methods = routes.get(route)
    if (methods === undefined) routes.set(route, (methods = new Map()))
    let series = methods.get(method)
    if (series === undefined) {
      const byClass = [undefined, undefined, ...[2, 3, 4, 5].map((n) => requests({ route, method, status: `${n}xx` }))]
      methods.set(method, (series = { duration: duration({ route, method }), byClass }))
    }
    return series
  }
  return (route: string, requestMethod: string, status: number, startedAt: number) => {
    const method = methodLabel(requestMethod)
    const series = seriesOf(route, method)
    series.duration.observe((performance.now() - startedAt) / 1000)
    const n = Math.min(5, Math.max(1, Math.floor(status / 100)))
    ;(series.byClass[n] ??= requests({ route, method, status: `${n}xx` })).inc()
  }
}

/**
 * The middleware around every request: request ids, body limits, RED metrics, and problem
 * bodies for unmatched routes and unexpected failures (logged with the request id, never
 * sent to the client).
 */
const globalMiddleware = (maxBodyBytes: number, maxJsonDepth: number) =>
  HttpRouter.middleware(
    Effect.gen(function* () {
      const record = httpMetrics(yield* Metrics)
      const tooLarge = problem(413, "Payload Too Large", `request body is larger than ${maxBodyBytes} bytes`)
      const nulInUrl = problem(400, "Bad Request", nulRefusal)
      const onFailure = (
        request: HttpServerRequest.HttpServerRequest,
        requestId: string,
        cause: Cause.Cause<unknown>
      ) => {
        const error = Cause.squash(cause)
        if (HttpServerError.isHttpServerError(error) && error.reason._tag === "RouteNotFound") {
          // A path the router could not read is a bad request, not a missing resource.
          if (error.reason.description !== undefined)
            return Effect.succeed(problem(400, "Bad Request", error.reason.description))
          if (!safeDecodePath(request.url))
            return Effect.succeed(problem(400, "Bad Request", "the request path is not valid percent-encoded UTF-8"))
          return Effect.succeed(
            problem(404, "Not Found", `no route for ${request.method} ${request.url.split("?")[0]}`)
          )
        }
        if (HttpServerError.isHttpServerError(error) && error.reason._tag === "RequestParseError") {
          // A body without content-length (chunked) is only found too large while it is read.
          if (error.reason.reason === "BodyTooLarge") return Effect.succeed(tooLarge)
          return Effect.succeed(problem(400, "Bad Request", "the request body could not be read"))
        }
        if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
        return Effect.as(
          Effect.logError("request failed", cause),
          problem(500, "Internal Server Error", `request ${requestId} failed; it has been logged`)
        )
      }
      // Runs for every request, so it is kept lean: no generator, one context update, and no
      // continuation on the way out. Every response of the request (also one the server makes
      // from a failure) passes the pre-response handler just before it is written; it reads
      // the route the router matched from the request fiber's context.
      return (handler) =>
        // `any`: with the exact requirements, the layer's type cannot be checked against a generic `R`.
        Effect.withFiber<HttpServerResponse.HttpServerResponse, unknown, any>((fiber) => {
          const startedAt = performance.now()
          const request = Context.getUnsafe(fiber.context, HttpServerRequest.HttpServerRequest)
          const incoming = headerOf(request, "x-request-id")
          const requestId = incoming !== undefined && requestIdPattern.test(incoming) ? incoming : uuidv7()
          // This fiber serves this request only: the id goes straight into its context, as the
          // router's match (`RouteContext`) does.
          fiber.setContext(Context.add(fiber.context, RequestId, requestId))
          HttpEffect.appendPreResponseHandlerUnsafe(fiber.context, (_, response) => {
            const matched = Context.getOrUndefined(fiber.context, HttpRouter.RouteContext)
            record(matched?.route.path ?? "unmatched", request.method, response.status, startedAt)
            return Effect.succeed(
              HttpServerResponse.setHeader(withRetryAfter(asProblem(response)), "x-request-id", requestId)
            )
          })
          if (Number(headerOf(request, "content-length") ?? 0) > maxBodyBytes) return Effect.succeed(tooLarge)
          if (request.url.includes("%00")) return Effect.succeed(nulInUrl)
          // JSON bodies are read (once: the request caches them) and checked before any parser sees them.
          const checked =
            request.method !== "GET" &&
            request.method !== "HEAD" &&
            jsonContentType.test(request.headers["content-type"] ?? "")
              ? Effect.flatMap(request.arrayBuffer, (buffer) => {
                  const refusal = inspectJsonBody(new Uint8Array(buffer), maxJsonDepth)
                  return refusal === undefined ? handler : Effect.succeed(problem(400, "Bad Request", refusal))
                })
              : handler
          return Effect.catchCause(checked, (cause) => onFailure(request, requestId, cause))
        })
    }),
    { global: true }
  )

const systemRoutes = (options: { readonly name: string; readonly version: string }) =>
  HttpRouter.use((router) =>
    Effect.gen(function* () {
      const health = yield* Health
      const metrics = yield* Metrics
      const startedAt = new Date()
      yield* router.add("GET", "/health/live", HttpServerResponse.jsonUnsafe({ status: "ok" }))
      const checkUp = metrics.gauge(
        "troupe_health_check_up",
        "1 while a readiness check passes, as of the last probe",
        ["check"]
      )
      yield* router.add(
        "GET",
        "/health/ready",
        Effect.map(health.report, (report) => {
          for (const [name, result] of Object.entries(report.checks)) checkUp.set({ check: name }, result.ok ? 1 : 0)
          return HttpServerResponse.jsonUnsafe(
            { status: report.ready ? "ready" : report.draining ? "draining" : "not ready", checks: report.checks },
            { status: report.ready ? 200 : 503 }
          )
        })
      )
      yield* router.add(
        "GET",
        "/api/v1/info",
        Effect.sync(() =>
          HttpServerResponse.jsonUnsafe({
            service: options.name,
            version: options.version,
            runtime: runtimeName(),
            startedAt: startedAt.toISOString(),
            uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000)
          })
        )
      )
      yield* router.add(
        "GET",
        "/metrics",
        Effect.map(metrics.render, (text) => HttpServerResponse.text(text, { contentType: MetricsModule.contentType }))
      )
    })
  )

/**
 * The HTTP server of a service. Requires the handlers of its API groups (if any), and the
 * per-service `Health` and `Metrics` (see `provide`).
 */
export const layer = <Id extends string = string, Groups extends HttpApiGroup.Constraint = never, R = never>(
  options: Options<Id, Groups, R>
): Layer.Layer<
  never,
  ServeError | Config.ConfigError,
  | HttpApiGroup.ToService<Id, Groups>
  | Health
  | Metrics
  | HttpApiMiddleware.ProblemDetails
  | Exclude<R, HttpRouter.HttpRouter | FileSystem.FileSystem | HttpPlatform.HttpPlatform>
> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* config({
        port: options.port,
        ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {})
      })
      const info = { name: options.name, version: options.version ?? "0.0.0" }
      const api = options.api
        ? Layer.mergeAll(
            HttpApiBuilder.layer(options.api, { openapiPath: "/openapi.json" }),
            HttpApiSwagger.layer(options.api, { path: "/docs" })
          )
        : Layer.empty
      const app = Layer.mergeAll(api, systemRoutes(info), options.routes ?? Layer.empty).pipe(
        Layer.provide(globalMiddleware(settings.maxBodyBytes, settings.maxJsonDepth))
      )
      const server = HttpRouter.serve(app, {
        disableLogger: true,
        disableListenLog: true,
        // Over-long path parameters reach the API and fail their schema (400) instead of matching no route.
        routerConfig: { maxParamLength: settings.maxHeaderBytes }
      }).pipe(
        Layer.provide(layerProblemDetails),
        Layer.provide(
          Layer.merge(
            // Every request's body limit (a chunked body is cut off while it is read: 413).
            Layer.succeed(HttpServerRequest.MaxBodySize, ByteSize.bytes(settings.maxBodyBytes)),
            // Idle keep-alive connections stay open 30 s, longer than clients keep them (undici: 4 s),
            // so a client never reuses a connection the server is closing. Slow clients get 408 once
            // their headers or whole request take too long; timeouts are checked every second.
            NodeHttpServer.layer(
              () =>
                createServer({
                  // Headers and a whole body leave in one write, also with Effect's strict content length.
                  ServerResponse: SingleWriteResponse,
                  requestTimeout: Duration.toMillis(settings.requestTimeout),
                  // Node refuses a headers timeout longer than the request timeout.
                  headersTimeout: Math.min(
                    Duration.toMillis(settings.headersTimeout),
                    Duration.toMillis(settings.requestTimeout)
                  ),
                  connectionsCheckingInterval: 1_000,
                  maxHeaderSize: settings.maxHeaderBytes,
                  keepAliveTimeout: 30_000
                }),
              {
                port: settings.port,
                host: settings.host,
                gracefulShutdownTimeout: settings.shutdownTimeout
              }
            )
          )
        )
      )
      // Built after the server, so its finalizer runs first at shutdown: readiness goes
      // false before the server stops accepting.
      const drain = Layer.effectDiscard(
        Effect.gen(function* () {
          const health = yield* Health
          yield* Effect.logInfo(`listening on http://${settings.host}:${settings.port}`).pipe(
            Effect.annotateLogs({ port: settings.port })
          )
          yield* Effect.addFinalizer(() =>
            Effect.gen(function* () {
              yield* health.startDraining
              yield* Effect.logInfo("shutting down: draining in-flight work")
              yield* Effect.sleep(settings.drainDelay)
            })
          )
        })
      )
      return Layer.provide(drain, server)
    })
  )

/**
 * Provides a service's own `Health`, `Metrics` (labelled `service=<name>`) and JSON logger.
 * Each call creates fresh instances, so services sharing a process (embedded mode) keep
 * their readiness and metrics apart.
 */
export const provide =
  (name: string) =>
  <A, E, R>(
    self: Layer.Layer<A, E, R>
  ): Layer.Layer<A, E, Exclude<R, Health | Metrics | HttpApiMiddleware.ProblemDetails>> =>
    self.pipe(
      Layer.provide(Layer.mergeAll(Layer.fresh(Health.layer), Metrics.layer(name), layerProblemDetails)),
      Layer.provide(
        Layer.mergeAll(
          Logger.layer([jsonLogger(name)]),
          Layer.effectDiscard(Effect.void).pipe(Layer.provide(Layer.succeed(References.MinimumLogLevel, "Info")))
        )
      )
    )

/** One line saying why a service could not start. */
export const describeStartupError = (error: unknown): string => {
  if (error === null || typeof error !== "object") return String(error)
  const e = error as { _tag?: string; message?: string; cause?: unknown }
  if (e._tag === "ConfigError") return `invalid configuration: ${(e.message ?? "").replace(/\s+/g, " ")}`
  if (e._tag === "ServeError") {
    const cause = e.cause as { code?: string; port?: number; address?: string } | undefined
    if (cause?.code === "EADDRINUSE") return `port ${cause.port} on ${cause.address} is already in use`
    return `HTTP server could not start: ${String((cause as Error | undefined)?.message ?? e.message)}`
  }
  return e.message ? `${e._tag ? `${e._tag}: ` : ""}${e.message}` : String(error)
}

/**
 * Builds a layer once and exits: 0 when it built (e.g. a `Database.layer`, which migrates),
 * 1 with one line naming the problem when it did not. For migration jobs.
 */
export const runOnce = <A, E>(name: string, self: Layer.Layer<A, E, Health | Metrics>): void =>
  Effect.gen(function* () {
    yield* Effect.scoped(Layer.build(self.pipe(provide(name))))
    yield* Effect.logInfo(`${name}: done`)
  }).pipe(
    Effect.catchCause((cause) =>
      Effect.sync(() => {
        console.error(`${name}: failed: ${describeStartupError(Cause.squash(cause))}`)
        process.exit(1)
      })
    ),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )

/**
 * Launches a service layer as the process's main program: prints one clear line and exits 1
 * on a start-up failure; drains and exits 0 on SIGTERM/SIGINT, or exits 1 if draining takes
 * longer than `SHUTDOWN_TIMEOUT` plus 5 seconds.
 */
export const run = <E>(self: Layer.Layer<never, E, never>): void => {
  let deadline = 25_000
  const onSignal = () => {
    setTimeout(() => {
      console.error(`shutdown did not finish within ${deadline} ms; exiting`)
      process.exit(1)
    }, deadline).unref()
  }
  process.once("SIGTERM", onSignal)
  process.once("SIGINT", onSignal)
  Effect.gen(function* () {
    const settings = yield* Effect.option(config({ port: 0 }))
    if (settings._tag === "Some") deadline = Duration.toMillis(settings.value.shutdownTimeout) + 5_000
    return yield* Layer.launch(self)
  }).pipe(
    Effect.catchCause((cause) => {
      if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
      const error = Cause.squash(cause)
      return Effect.sync(() => {
        console.error(`cannot start: ${describeStartupError(error)}`)
        process.exit(1)
      })
    }),
    NodeRuntime.runMain({
      disableErrorReporting: true,
      // A drained shutdown after SIGTERM/SIGINT is a clean exit.
      teardown: (exit, onExit) => onExit(exit._tag === "Success" || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)
    })
  )
}
