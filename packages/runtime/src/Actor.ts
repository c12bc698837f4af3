/**
 * Supervised actors: a long-running loop (a consumer, the outbox relay, a connection)
 * that is restarted with exponential backoff when it fails, whose state shows in
 * readiness (`/health/ready`) and in metrics (`troupe_actor_up`, `troupe_actor_restarts_total`).
 *
 * @example
 * ```ts
 * const Ticker = Actor.layer("ticker", (ready) =>
 *   Effect.gen(function* () {
 *     yield* ready
 *     yield* Effect.forever(Effect.sleep("1 second"))
 *   })
 * )
 * ```
 */
import { Cause, Clock, Duration, Effect, Layer, Random, Ref, Scope } from "effect"
import { describe, Health } from "./Health.ts"
import { Metrics } from "./Metrics.ts"

export type State = "starting" | "running" | "restarting"

export interface Options {
  /** First restart delay; doubles on each consecutive failure. Default 100 ms. */
  readonly minBackoff?: Duration.Input
  /** Upper bound of the restart delay. Default 30 s. */
  readonly maxBackoff?: Duration.Input
  /** A run that stayed up this long resets the backoff. Default 30 s. */
  readonly resetAfter?: Duration.Input
}

/**
 * Runs `body` in the background of the current scope, restarting it whenever it fails
 * or returns. `body` receives `ready`, to be run once the actor is serving (connected,
 * subscribed); until then readiness reports it as starting.
 */
export const supervise = <E, R>(
  name: string,
  body: (ready: Effect.Effect<void>) => Effect.Effect<unknown, E, R>,
  options: Options = {}
): Effect.Effect<void, never, R | Scope.Scope | Health | Metrics> =>
  Effect.gen(function* () {
    const metrics = yield* Metrics
    const up = metrics.gauge(
      "troupe_actor_up",
      "1 while a supervised actor is running, 0 while starting or restarting",
      ["actor"]
    )
    const restarts = metrics.counter("troupe_actor_restarts_total", "Restarts of supervised actors after a failure", [
      "actor"
    ])
    const state = yield* Ref.make<{ readonly state: State; readonly lastError?: string }>({ state: "starting" })
    yield* Health.register(
      `actor:${name}`,
      Effect.flatMap(Ref.get(state), (s) =>
        s.state === "running" ? Effect.void : Effect.fail(s.lastError ? `${s.state}: ${s.lastError}` : s.state)
      )
    )
    up.set({ actor: name }, 0)
    restarts.inc({ actor: name }, 0)
    const minBackoff = Duration.toMillis(Duration.fromInputUnsafe(options.minBackoff ?? "100 millis"))
    const maxBackoff = Duration.toMillis(Duration.fromInputUnsafe(options.maxBackoff ?? "30 seconds"))
    const resetAfter = Duration.toMillis(Duration.fromInputUnsafe(options.resetAfter ?? "30 seconds"))
    const ready = Effect.andThen(
      Ref.set(state, { state: "running" }),
      Effect.sync(() => up.set({ actor: name }, 1))
    )

    const loop = Effect.gen(function* () {
      let backoff = minBackoff
      while (true) {
        const started = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(body(ready))
        const lastError =
          exit._tag === "Failure" ? describe(Cause.squash(exit.cause)) : "stopped unexpectedly without an error"
        const ranFor = (yield* Clock.currentTimeMillis) - started
        if (ranFor >= resetAfter) backoff = minBackoff
        up.set({ actor: name }, 0)
        restarts.inc({ actor: name })
        yield* Ref.set(state, { state: "restarting", lastError })
        yield* Effect.logWarning(`actor ${name} failed; restarting in ${backoff} ms`).pipe(
          Effect.annotateLogs({ actor: name, error: lastError })
        )
        const jitter = 0.8 + (yield* Random.next) * 0.4
        yield* Effect.sleep(Duration.millis(backoff * jitter))
        backoff = Math.min(backoff * 2, maxBackoff)
      }
    })
    yield* Effect.forkScoped(loop)
  })

/** A layer that runs a supervised actor for the lifetime of the service. */
export const layer = <E, R>(
  name: string,
  body: (ready: Effect.Effect<void>) => Effect.Effect<unknown, E, R>,
  options?: Options
): Layer.Layer<never, never, Exclude<R, Scope.Scope> | Health | Metrics> =>
  Layer.effectDiscard(supervise(name, body, options)) as Layer.Layer<
    never,
    never,
    Exclude<R, Scope.Scope> | Health | Metrics
  >
