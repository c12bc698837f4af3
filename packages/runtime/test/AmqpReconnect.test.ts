// The AMQP transport recovers by itself when the broker drops its connections, again and again.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { execFile, execFileSync } from "node:child_process"
import * as AmqpTransport from "../src/AmqpTransport.ts"
import * as Consumer from "../src/Consumer.ts"
import { Health } from "../src/Health.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Publisher from "../src/Publisher.ts"
import * as WorkQueue from "../src/WorkQueue.ts"
import { eventually, Ping } from "./contract.ts"
import { AMQP_URL, rabbitAvailable, unique } from "./services.ts"

const ctl = (...args: Array<string>) => execFileSync("rabbitmqctl", ["-q", ...args], { stdio: "pipe" }).toString()

describe.skipIf(!rabbitAvailable)("AMQP reconnection", () => {
  it.live("survives the broker closing every connection three times in a row", () => {
    const vhost = unique("reconnect")
    ctl("add_vhost", vhost)
    ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    const url = new URL(AMQP_URL)
    url.pathname = `/${vhost}`
    return Effect.gen(function* () {
      const health = yield* Health
      const queue = WorkQueue.make("reconnect", [Ping])
      const seen = new Set<number>()
      yield* Layer.build(
        Consumer.layer({ from: queue, handle: (b) => Effect.sync(() => b.forEach((e) => seen.add(e.payload.n))) })
      )
      yield* Publisher.publish(queue, Ping, [{ n: 0, key: "k" }])
      yield* eventually(() => seen.has(0), 15_000, "first message")
      for (let round = 0; round < 3; round++) {
        ctl("close_all_connections", "-p", vhost, "test: broker restart")
        yield* Effect.sleep("2 seconds")
      }
      // Back: readiness, publishing and consuming all recover without help.
      let report = yield* health.report
      for (let i = 0; i < 150 && !report.ready; i++) {
        yield* Effect.sleep("100 millis")
        report = yield* health.report
      }
      assert.isTrue(report.ready, JSON.stringify(report.checks))
      yield* Publisher.publish(queue, Ping, [{ n: 1, key: "k" }])
      yield* eventually(() => seen.has(1), 20_000, "a message after the reconnects")
    }).pipe(
      Effect.scoped,
      Effect.provide(
        AmqpTransport.layer({ url: Redacted.make(url.toString()) }).pipe(
          Layer.orDie,
          Layer.provideMerge(Layer.mergeAll(Health.layer, Metrics.layerTest))
        )
      ),
      Effect.ensuring(Effect.sync(() => ctl("delete_vhost", vhost)))
    )
  })

  it.live("is back within a second after the broker closed its connection (no wait for a close nobody answers)", () => {
    const vhost = unique("reconnect-fast")
    ctl("add_vhost", vhost)
    ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    const url = new URL(AMQP_URL)
    url.pathname = `/${vhost}`
    return Effect.gen(function* () {
      const health = yield* Health
      const queue = WorkQueue.make("reconnect-fast", [Ping])
      yield* Layer.build(Consumer.layer({ from: queue, handle: () => Effect.void }))
      yield* Publisher.publish(queue, Ping, [{ n: 0, key: "k" }])
      // publishing goes on while the connection drops
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.andThen(Effect.ignore(Publisher.publish(queue, Ping, [{ n: 2, key: "k" }])), Effect.sleep("5 millis"))
        )
      )
      yield* Effect.sleep("500 millis")
      // asynchronously: the client must see the close while its event loop runs (execFileSync would hide the race)
      const closing = Effect.promise(
        () =>
          new Promise((resolve) =>
            execFile("rabbitmqctl", ["-q", "close_all_connections", "-p", vhost, "test: connection dropped"], resolve)
          )
      )
      yield* closing
      const dropped = Date.now()
      // the drop is seen at once; readiness comes back with the next connection (200 ms backoff)
      let report = yield* health.report
      for (let i = 0; i < 100 && report.ready; i++) {
        yield* Effect.sleep("10 millis")
        report = yield* health.report
      }
      for (let i = 0; i < 300 && !report.ready; i++) {
        yield* Effect.sleep("10 millis")
        report = yield* health.report
      }
      const back = Date.now() - dropped
      assert.isTrue(report.ready, JSON.stringify(report.checks))
      assert.isBelow(back, 1_000, `ready again after ${back} ms`)
      yield* Publisher.publish(queue, Ping, [{ n: 1, key: "k" }])
    }).pipe(
      Effect.scoped,
      Effect.provide(
        AmqpTransport.layer({ url: Redacted.make(url.toString()) }).pipe(
          Layer.orDie,
          Layer.provideMerge(Layer.mergeAll(Health.layer, Metrics.layerTest))
        )
      ),
      Effect.ensuring(Effect.sync(() => ctl("delete_vhost", vhost)))
    )
  })
})
