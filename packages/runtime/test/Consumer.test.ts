// Consumer behaviour that does not depend on the transport (run on the in-process broker).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Consumer from "../src/Consumer.ts"
import { Health } from "../src/Health.ts"
import { uuidv7 } from "../src/internal/uuid.ts"
import * as MemoryTransport from "../src/MemoryTransport.ts"
import { Metrics } from "../src/Metrics.ts"
import * as Publisher from "../src/Publisher.ts"
import { Transport } from "../src/Transport.ts"
import * as WorkQueue from "../src/WorkQueue.ts"
import { eventually, Ping } from "./contract.ts"

class DatabaseDown extends Error {
  readonly isRetryable = true
}

describe("Consumer", () => {
  it.live("retries infrastructure failures (isRetryable) without dead-lettering, however many", () => {
    const memory = MemoryTransport.make()
    return Effect.gen(function* () {
      const queue = WorkQueue.make("infra", [Ping])
      let calls = 0
      const handled: Array<number> = []
      yield* Effect.forkScoped(
        Consumer.run({
          from: queue,
          maxAttempts: 2,
          retryBackoff: "1 millis",
          handle: (batch) =>
            Effect.suspend(() => {
              calls++
              return calls <= 6
                ? Effect.fail(new DatabaseDown("connection refused"))
                : Effect.sync(() => batch.forEach((e) => handled.push(e.payload.n)))
            })
        })
      )
      yield* Publisher.publish(queue, Ping, [{ n: 1, key: "k" }])
      yield* eventually(() => handled.length === 1, 15_000, "handled after the outage")
      assert.strictEqual(calls, 7)
      assert.deepStrictEqual(memory.broker.deadLetters("infra"), [])
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(Layer.succeed(Transport, memory), Health.layer, Metrics.layerTest))
    )
  })

  it.live("starts each lane with every message already waiting for it", () => {
    const memory = MemoryTransport.make()
    return Effect.gen(function* () {
      const queue = WorkQueue.make("waiting", [Ping])
      // 200 messages are waiting before the consumer subscribes: all of them arrive at once.
      yield* Publisher.publish(
        queue,
        Ping,
        Array.from({ length: 200 }, (_, n) => ({ n, key: `k${n % 20}` }))
      )
      const batches: Array<number> = []
      yield* Effect.forkScoped(
        Consumer.run({
          from: queue,
          maxBatch: 500,
          concurrency: 4,
          handle: (batch) => Effect.sync(() => batches.push(batch.length))
        })
      )
      yield* eventually(() => batches.reduce((a, b) => a + b, 0) >= 200, 15_000, "200 handled")
      // One handler call per lane (20 keys over 4 lanes), not a trickle of small batches.
      assert.isAtMost(batches.length, 4)
      assert.strictEqual(
        batches.reduce((a, b) => a + b, 0),
        200
      )
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(Layer.succeed(Transport, memory), Health.layer, Metrics.layerTest))
    )
  })

  it("makes time-ordered, unique, RFC 9562 version 7 ids", () => {
    const before = Date.now()
    const ids = Array.from({ length: 5000 }, () => uuidv7())
    assert.strictEqual(new Set(ids).size, ids.length)
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.deepStrictEqual([...ids].sort(), ids, "ids sort in creation order, also within a millisecond")
    const ms = parseInt(ids[0]!.slice(0, 13).replace("-", ""), 16)
    assert.isAtLeast(ms, before - 1000)
    assert.isAtMost(ms, Date.now() + 1000)
  })

  it("encodes the timestamp, and past 4096 ids in one millisecond borrows the next", () => {
    // Ahead of every id made so far (ids never go back in time within a process).
    const at = Date.now() + 1000
    const ids = Array.from({ length: 5000 }, () => uuidv7(at))
    const msOf = (id: string) => parseInt(id.slice(0, 13).replace("-", ""), 16)
    assert.strictEqual(msOf(ids[0]!), at)
    assert.strictEqual(msOf(ids.at(-1)!), at + 1)
    assert.deepStrictEqual([...ids].sort(), ids)
    assert.strictEqual(new Set(ids).size, ids.length)
  })
})
