/**
 * Liveness and readiness of a service. Modules register readiness checks (database,
 * broker, consumers, migrations); the service host serves them on `/health/ready` and
 * flips readiness to false while draining.
 *
 * @example
 * ```ts
 * yield* Health.register("database", sql`select 1`)
 * ```
 */
import { Cause, Context, Effect, Layer, Option, Ref } from "effect"

export interface CheckResult {
  readonly ok: boolean
  readonly detail?: string
}

export interface Report {
  readonly ready: boolean
  readonly draining: boolean
  readonly checks: Readonly<Record<string, CheckResult>>
}

export interface HealthShape {
  /** Adds a readiness check; it passes when the effect succeeds within the check timeout. */
  readonly register: (name: string, check: Effect.Effect<unknown, unknown>) => Effect.Effect<void>
  readonly startDraining: Effect.Effect<void>
  readonly isDraining: Effect.Effect<boolean>
  readonly report: Effect.Effect<Report>
}

export const describe = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : String(JSON.stringify(error))

const make = Effect.gen(function* () {
  const checks = new Map<string, Effect.Effect<unknown, unknown>>()
  const draining = yield* Ref.make(false)
  const run = (check: Effect.Effect<unknown, unknown>): Effect.Effect<CheckResult> =>
    check.pipe(
      Effect.timeoutOption("2 seconds"),
      Effect.map(Option.match({ onNone: () => ({ ok: false, detail: "timed out" }), onSome: () => ({ ok: true }) })),
      Effect.catchCause((cause) => Effect.succeed({ ok: false, detail: describe(Cause.squash(cause)) }))
    )
  return Health.of({
    register: (name, check) => Effect.sync(() => void checks.set(name, check)),
    startDraining: Ref.set(draining, true),
    isDraining: Ref.get(draining),
    report: Effect.gen(function* () {
      const isDraining = yield* Ref.get(draining)
      const results = yield* Effect.forEach(
        [...checks],
        ([name, check]) => Effect.map(run(check), (r) => [name, r] as const),
        {
          concurrency: "unbounded"
        }
      )
      const entries = Object.fromEntries(results)
      return { ready: !isDraining && results.every(([, r]) => r.ok), draining: isDraining, checks: entries }
    })
  })
})

/** Readiness registry of the running service. */
export class Health extends Context.Service<Health, HealthShape>()("@troupe/runtime/Health") {
  static readonly layer: Layer.Layer<Health> = Layer.effect(this, make)

  /** Registers a readiness check with the current service's registry. */
  static readonly register = (
    name: string,
    check: Effect.Effect<unknown, unknown>
  ): Effect.Effect<void, never, Health> => Health.use((health) => health.register(name, check))
}
