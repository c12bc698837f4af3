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
})
