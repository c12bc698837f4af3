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
  /**
   * A counter for hot paths (every request, every message): `(labels)` binds a label set once
   * (it is exported at 0 from then on), and the bound series' `inc` is a plain number update.
   */
  readonly counterSeries: <L extends string>(
    name: string,
    help: string,
    labelNames: ReadonlyArray<L>
  ) => (labels: { readonly [K in L]: string }) => CounterSeries
  /** A histogram for hot paths, bound to a label set once like `counterSeries`. */
  readonly histogramSeries: <L extends string>(
    name: string,
    help: string,
    labelNames: ReadonlyArray<L>,
    buckets?: ReadonlyArray<number>
  ) => (labels: { readonly [K in L]: string }) => HistogramSeries
  /** The registry in Prometheus text exposition format. */
  readonly render: Effect.Effect<string>
}

export interface CounterSeries {
  readonly inc: (value?: number) => void
}

export interface HistogramSeries {
  readonly observe: (value: number) => void
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

class BoundCounter implements CounterSeries {
  total = 0
  inc(value = 1) {
    this.total += value
  }
  reset() {
    this.total = 0
  }
}

class BoundHistogram implements HistogramSeries {
  /** Observations per bucket (not cumulative); above the last bound only in `count`. */
  readonly bounds: ReadonlyArray<number>
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(bounds: ReadonlyArray<number>) {
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length)
  }
  observe(value: number) {
    let i = 0
    while (i < this.bounds.length && value > this.bounds[i]!) i++
    if (i < this.bounds.length) this.counts[i]!++
    this.sum += value
    this.count++
  }
  reset() {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }
}

/** A sample as prom-client renders it: `labels` (with the registry's defaults) first, then `sharedLabels`. */
type Sample = {
  readonly labels: Record<string, string | number>
  readonly sharedLabels?: Record<string, string>
  readonly value: number
  readonly metricName?: string
}

/**
 * A metric whose series are bound to their labels once and updated as plain numbers; the
 * registry reads them when it is scraped. prom-client's own metrics hash their labels on every
 * `inc`/`observe`, which costs more than the rest of a small HTTP request's middleware.
 */
const boundMetric = <S extends { reset(): void }, L extends string>(
  registry: Prom.Registry,
  metric: { readonly name: string; readonly help: string; readonly type: "counter" | "histogram" },
  labelNames: ReadonlyArray<L>,
  make: () => S,
  samples: (labels: Record<string, string>, state: S) => ReadonlyArray<Sample>
) => {
  const series = new Map<string, { readonly labels: Record<string, string>; readonly state: S }>()
  // prom-client renders any registered object that has a name and `get()`: the text format
  // through `getForPromString` (labels, then shared labels), JSON through `get` (one label set).
  // The name is read when rendering: OpenMetrics output renames counters.
  const values = () => [...series.values()].flatMap(({ labels, state }) => samples(labels, state))
  const exported = {
    ...metric,
    aggregator: "sum",
    getForPromString: async () => ({ ...metric, name: exported.name, aggregator: "sum", values: values() }),
    get: async () => ({
      ...metric,
      name: exported.name,
      aggregator: "sum",
      values: values().map(({ sharedLabels, ...sample }) => ({
        ...sample,
        labels: { ...sample.labels, ...sharedLabels }
      }))
    }),
    // Zeroes the series but keeps them: their holders keep recording into them.
    reset: () => series.forEach(({ state }) => state.reset())
  }
  registry.registerMetric(exported as unknown as Prom.Metric)
  return (labels: { readonly [K in L]: string }): S => {
    const key = labelNames.map((name) => labels[name]).join("\u0000")
    let bound = series.get(key)
    if (bound === undefined) {
      const unknown = Object.keys(labels).find((name) => !labelNames.includes(name as L))
      if (unknown !== undefined) throw new TypeError(`${metric.name} has no label named ${unknown}`)
      const missing = labelNames.find((name) => typeof labels[name] !== "string")
      if (missing !== undefined) throw new TypeError(`${metric.name} needs a value for its label ${missing}`)
      bound = { labels: { ...labels }, state: make() }
      series.set(key, bound)
    }
    return bound.state
  }
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
  const bound = new Map<string, unknown>()
  const getOrBind = <M>(name: string, create: () => M): M => {
    if (!bound.has(name)) bound.set(name, create())
    return bound.get(name) as M
  }
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
    counterSeries: (name, help, labelNames) =>
      getOrBind(name, () =>
        boundMetric(
          registry,
          { name, help, type: "counter" },
          labelNames,
          () => new BoundCounter(),
          (labels, counter) => [{ labels, value: counter.total }]
        )
      ),
    histogramSeries: (name, help, labelNames, buckets = latencyBuckets) =>
      getOrBind(name, () => {
        const bounds = [...buckets].sort((a, b) => a - b)
        return boundMetric(
          registry,
          { name, help, type: "histogram" },
          labelNames,
          () => new BoundHistogram(bounds),
          (labels, histogram) => {
            let cumulative = 0
            return [
              ...bounds.map((le, i) => ({
                labels: { le },
                sharedLabels: labels,
                value: (cumulative += histogram.counts[i]!),
                metricName: `${name}_bucket`
              })),
              { labels: { le: "+Inf" }, sharedLabels: labels, value: histogram.count, metricName: `${name}_bucket` },
              { labels: {}, sharedLabels: labels, value: histogram.sum, metricName: `${name}_sum` },
              { labels: {}, sharedLabels: labels, value: histogram.count, metricName: `${name}_count` }
            ]
          }
        )
      }),
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
