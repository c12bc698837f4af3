import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Metrics from "../src/Metrics.ts"

describe("Metrics", () => {
  it.effect("startAtZero exposes every label combination at 0 before the first event", () =>
    Effect.gen(function* () {
      const metrics = yield* Metrics.Metrics
      const counter = metrics.counter("test_transactions_total", "Test", ["type", "outcome"])
      Metrics.startAtZero(counter, { type: ["deposit", "transfer"], outcome: ["completed", "failed"] })
      counter.inc({ type: "deposit", outcome: "completed" })
      const text = yield* metrics.render
      const series = text.split("\n").filter((line) => line.startsWith("test_transactions_total{"))
      expect(series.sort()).toEqual([
        'test_transactions_total{type="deposit",outcome="completed",service="test"} 1',
        'test_transactions_total{type="deposit",outcome="failed",service="test"} 0',
        'test_transactions_total{type="transfer",outcome="completed",service="test"} 0',
        'test_transactions_total{type="transfer",outcome="failed",service="test"} 0'
      ])
    }).pipe(Effect.provide(Metrics.Metrics.layerTest))
  )

  it.effect("bound series render exactly as prom-client's own counter and histogram do", () =>
    Effect.gen(function* () {
      const metrics = yield* Metrics.Metrics
      const values = [0.0004, 0.001, 0.003, 0.003, 0.07, 1, 9.5, 12]
      const promHistogram = metrics.histogram("test_prom_seconds", "Latency", ["route", "method"])
      const promCounter = metrics.counter("test_prom_total", "Requests", ["route", "status"])
      const histogram = metrics.histogramSeries("test_bound_seconds", "Latency", ["route", "method"])
      const counter = metrics.counterSeries("test_bound_total", "Requests", ["route", "status"])
      const series = histogram({ route: '/a/"quoted"\\', method: "GET" })
      const ok = counter({ route: "/a", status: "2xx" })
      counter({ route: "/a", status: "5xx" }) // bound, never incremented: exported at 0
      for (const value of values) {
        promHistogram.observe({ route: '/a/"quoted"\\', method: "GET" }, value)
        series.observe(value)
        promCounter.inc({ route: "/a", status: "2xx" })
        ok.inc()
      }
      promCounter.inc({ route: "/a", status: "5xx" }, 0)
      // The same metric name returns the same metric; the same labels the same series.
      metrics.counterSeries("test_bound_total", "Requests", ["route", "status"])({ route: "/a", status: "2xx" }).inc(2)
      promCounter.inc({ route: "/a", status: "2xx" }, 2)
      const text = yield* metrics.render
      const lines = (prefix: string) =>
        text
          .split("\n")
          .filter((line) => line.startsWith(prefix) || line.includes(` ${prefix}`))
          .map((line) => line.replaceAll(prefix, "NAME"))
      expect(lines("test_bound_seconds")).toEqual(lines("test_prom_seconds"))
      expect(lines("test_bound_total")).toEqual(lines("test_prom_total"))
      expect(lines("test_bound_seconds")).toContain(
        'NAME_bucket{le="+Inf",service="test",route="/a/\\"quoted\\"\\\\",method="GET"} 8'
      )
      expect(lines("test_bound_total")).toContain('NAME{route="/a",status="2xx",service="test"} 10')
      // JSON (prom-client's cluster aggregation) carries the same samples, every label in one set.
      const json = yield* Effect.promise(() => metrics.registry.getMetricsAsJSON())
      const samplesOf = (name: string) =>
        json
          .find((m) => m.name === name)!
          // (prom-client's own samples carry `exemplar: null`; exemplars are not used here)
          .values.map((value) => {
            const { exemplar: _, ...v } = value as typeof value & { exemplar?: unknown; metricName?: string }
            return { ...v, metricName: v.metricName?.replace(name, "NAME") }
          })
      expect(samplesOf("test_bound_seconds")).toEqual(samplesOf("test_prom_seconds"))
      expect(samplesOf("test_bound_total")).toEqual(samplesOf("test_prom_total"))
      expect(() => counter({ route: "/b", status: "2xx", extra: "x" } as never)).toThrow(/no label named extra/)
      expect(() => counter({ route: "/b" } as never)).toThrow(/needs a value for its label status/)
    }).pipe(Effect.provide(Metrics.Metrics.layerTest))
  )
})
