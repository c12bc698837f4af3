/**
 * Authentication (the `Authentication` middleware of the public API): a valid bearer JWT, then
 * the per-user rate limit. Every failure is the same 401 problem with a short reason, never
 * which check failed in detail beyond that.
 */
import { Gateway, Problems } from "@microbank/contracts"
import { Metrics } from "@troupe/runtime"
import { Effect, Layer, Redacted } from "effect"
import { GatewayConfig } from "./Config.ts"
import { Jwt } from "./Jwt.ts"
import * as RateLimiter from "./RateLimiter.ts"

export const layer = Layer.effect(
  Gateway.Authentication,
  Effect.gen(function* () {
    const jwt = yield* Jwt
    const config = yield* GatewayConfig
    const metrics = yield* Metrics.Metrics
    const rejected = metrics.counter(
      "microbank_auth_rejected_total",
      "Requests rejected by authentication, by reason",
      ["reason"]
    )
    const limited = metrics.counter("microbank_rate_limited_total", "Requests refused by a rate limit, by limit", [
      "limit"
    ])
    Metrics.startAtZero(limited, { limit: ["user"] })
    Metrics.startAtZero(rejected, {
      reason: ["malformed token", "bad signature", "token expired", "unknown signing key"]
    })
    const perUser = RateLimiter.make(config.rateLimitPerMinute)
    return Gateway.Authentication.of({
      bearer: (httpEffect, { credential }) =>
        Effect.gen(function* () {
          const claims = yield* jwt.verify(Redacted.value(credential)).pipe(
            Effect.catchTag("InvalidToken", (e) => {
              rejected.inc({ reason: e.reason })
              return Effect.fail(
                new Problems.Unauthorized({
                  detail:
                    e.reason === "malformed token" && Redacted.value(credential) === ""
                      ? "missing bearer token"
                      : e.reason
                })
              )
            })
          )
          yield* perUser.take(claims.sub).pipe(
            Effect.catch((seconds) => {
              limited.inc({ limit: "user" })
              return Effect.fail(new Problems.RateLimited({ retry_after_seconds: seconds }))
            })
          )
          return yield* Effect.provideService(httpEffect, Gateway.CurrentUser, {
            id: claims.sub,
            username: claims.username,
            role: claims.role
          })
        })
    })
  })
)
