/**
 * Prometheus metrics for one service: a prom-client `Registry` with the process's default
 * metrics and a `service` label, plus get-or-create helpers so every module declares the
 * metrics it records next to the code that records them.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const metrics = yield* Metrics
 *   metrics.counter("bank_deposits_total", "Deposits applied", ["outcome"]).inc({ outcome: "ok" })
 * })
 * ```
 */
import { Context, Effect, Layer } from "effect"
import * as Prom from "prom-client"

export interface MetricsShape {
  readonly registry: Prom.Registry
  readonly counter: <L extends string>(name: string, help: string, labelNames?: ReadonlyArray<L>) => Prom.Counter<L>
  readonly gauge: <L extends string>(name: string, help: string, labelNames?: ReadonlyArray<L>) => Prom.Gauge<L>
  readonly histogram: <L extends string>(
    name: string,
    help: string,
    labelNames?: ReadonlyArray<L>,
    buckets?: ReadonlyArray<number>
  ) => Prom.Histogram<L>
  /** The registry in Prometheus text exposition format. */
  readonly render: Effect.Effect<string>
}

/** Latency buckets (seconds) for HTTP requests and message handlers: 1 ms to 10 s. */
export const latencyBuckets: ReadonlyArray<number> = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
]

export const contentType: string = Prom.Registry.PROMETHEUS_CONTENT_TYPE

/**
 * Starts a counter at 0 for every combination of the given label values, so a rate or an
 * increase reads 0 rather than "No data" before the first event of a kind.
 *
 * @example
 * ```ts
 * startAtZero(transactions, { type: ["deposit", "withdrawal"], outcome: ["completed"] })
 * ```
 */
export const startAtZero = <L extends string>(
  counter: Prom.Counter<L>,
  values: { readonly [K in L]: ReadonlyArray<string> }
): void => {
  const combinations = (Object.entries(values) as Array<[L, ReadonlyArray<string>]>).reduce<
    Array<Partial<Record<L, string>>>
  >((acc, [label, options]) => acc.flatMap((labels) => options.map((value) => ({ ...labels, [label]: value }))), [{}])
  for (const labels of combinations) counter.inc(labels, 0)
}

/**
 * prom-client reads `/proc/self` for a process's memory and file descriptors, which Deno allows
 * only under `--allow-all`: they would read 0. On Deno the resident set size comes from
 * `process.memoryUsage.rss()` instead, and the metrics it cannot know are left out rather than
 * reported as 0 (see the README's "Metrics on Node and Deno").
 */
const denoProcessMetrics = (registry: Prom.Registry) => {
  for (const name of [
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_heap_bytes",
    "process_open_fds",
    "process_max_fds"
  ]) {
    registry.removeSingleMetric(name)
  }
  new Prom.Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss())
    }
  })
}

const make = (service: string, options: { readonly defaultMetrics: boolean }): MetricsShape => {
  const registry = new Prom.Registry()
  registry.setDefaultLabels({ service })
  if (options.defaultMetrics) {
    Prom.collectDefaultMetrics({ register: registry })
    if ("Deno" in globalThis) denoProcessMetrics(registry)
  }
  const getOrCreate = <M>(name: string, create: () => M): M =>
    (registry.getSingleMetric(name) as M | undefined) ?? create()
  return {
    registry,
    counter: (name, help, labelNames = []) =>
      getOrCreate(name, () => new Prom.Counter({ name, help, labelNames, registers: [registry] })),
    gauge: (name, help, labelNames = []) =>
      getOrCreate(name, () => new Prom.Gauge({ name, help, labelNames, registers: [registry] })),
    histogram: (name, help, labelNames = [], buckets = latencyBuckets) =>
      getOrCreate(
        name,
        () => new Prom.Histogram({ name, help, labelNames, buckets: [...buckets], registers: [registry] })
      ),
    render: Effect.promise(() => registry.metrics())
  }
}

/** The metrics registry of the running service. */
export class Metrics extends Context.Service<Metrics, MetricsShape>()("@troupe/runtime/Metrics") {
  /** A registry labelled `service=<name>` with Node/Deno process metrics. */
  static readonly layer = (service: string): Layer.Layer<Metrics> =>
    Layer.sync(this, () => make(service, { defaultMetrics: true }))
  /** A bare registry without process metrics, for tests. */
  static readonly layerTest: Layer.Layer<Metrics> = Layer.sync(this, () => make("test", { defaultMetrics: false }))
}
