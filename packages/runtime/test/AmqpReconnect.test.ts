// The AMQP transport recovers by itself when the broker drops its connections, again and again.
import { assert, describe, it } from "@effect/vitest"
import { AMQPClient } from "@cloudamqp/amqp-client"
import { Effect, Exit, Layer, Redacted } from "effect"
import { execFile, execFileSync } from "node:child_process"
import * as Net from "node:net"
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

  it.live("sends no close on a connection the broker closed (nobody would answer it), and reconnects", () => {
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
      // Closing a connection the broker already closed waits for an answer that never comes
      // (2 s, then the close gives up), holding the reconnect back: count the closes sent.
      const closes: Array<AMQPClient> = []
      const close = AMQPClient.prototype.close
      AMQPClient.prototype.close = function (this: AMQPClient, ...args) {
        closes.push(this)
        return close.apply(this, args)
      }
      yield* Effect.addFinalizer(() => Effect.sync(() => (AMQPClient.prototype.close = close)))
      yield* closing
      // the drop is seen at once; readiness comes back with the next connection (200 ms backoff)
      let report = yield* health.report
      for (let i = 0; i < 100 && report.ready; i++) {
        yield* Effect.sleep("10 millis")
        report = yield* health.report
      }
      for (let i = 0; i < 1000 && !report.ready; i++) {
        yield* Effect.sleep("10 millis")
        report = yield* health.report
      }
      assert.isTrue(report.ready, JSON.stringify(report.checks))
      assert.strictEqual(closes.length, 0, "a close was sent on the connection the broker had closed")
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

  it.live(
    "a broker that stops answering on a live connection fails a publish after replyTimeout; then it recovers",
    () => {
      const vhost = unique("reconnect-mute")
      ctl("add_vhost", vhost)
      ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
      const broker = new URL(AMQP_URL)
      return Effect.gen(function* () {
        const proxy = yield* Effect.acquireRelease(
          Effect.promise(() => muteProxy(broker.hostname, Number(broker.port || 5672))),
          (p) => Effect.sync(p.close)
        )
        const url = new URL(AMQP_URL)
        url.host = `127.0.0.1:${proxy.port}`
        url.pathname = `/${vhost}`
        const queue = WorkQueue.make("reconnect-mute", [Ping])
        const publish = (n: number) => Publisher.publish(queue, Ping, [{ n, key: "k" }])
        yield* Effect.gen(function* () {
          const health = yield* Health
          yield* publish(0)
          // The broker's answers stop arriving; the TCP connection stays up.
          proxy.mute()
          const exit = yield* Effect.exit(publish(1))
          assert.isTrue(Exit.isFailure(exit))
          assert.match(String(Exit.isFailure(exit) ? exit.cause : ""), /no answer from the broker within 1000 ms/)
          // The broker answers again (a new connection): publishing works again, on its own.
          proxy.unmute()
          // (A publish while the client is still noticing the drop fails, and is retried, as callers do.)
          let published = yield* Effect.exit(publish(2))
          for (let i = 0; i < 75 && Exit.isFailure(published); i++) {
            yield* Effect.sleep("200 millis")
            published = yield* Effect.exit(publish(2))
          }
          assert.isTrue(Exit.isSuccess(published), String(Exit.isFailure(published) ? published.cause : ""))
          assert.isTrue((yield* health.report).ready)
        }).pipe(
          Effect.provide(
            AmqpTransport.layer({ url: Redacted.make(url.toString()), replyTimeout: 1_000 }).pipe(
              Layer.orDie,
              Layer.provideMerge(Layer.mergeAll(Health.layer, Metrics.layerTest))
            )
          )
        )
      }).pipe(Effect.scoped, Effect.ensuring(Effect.sync(() => ctl("delete_vhost", vhost))))
    }
  )
})

/**
 * A TCP proxy in front of the broker that can go mute: the broker's bytes stop reaching the
 * client while the connection stays open (a broker that hangs, or a network that drops one
 * direction). `unmute` closes the connections it muted, as a hung peer eventually is.
 */
const muteProxy = (host: string, port: number) =>
  new Promise<{ port: number; mute: () => void; unmute: () => void; close: () => void }>((resolve) => {
    let muted = false
    const pairs = new Set<[Net.Socket, Net.Socket]>()
    const server = Net.createServer((client) => {
      const upstream = Net.connect(port, host)
      const pair: [Net.Socket, Net.Socket] = [client, upstream]
      pairs.add(pair)
      client.on("data", (data) => upstream.write(data))
      upstream.on("data", (data) => {
        if (!muted) client.write(data)
      })
      const end = () => {
        pairs.delete(pair)
        client.destroy()
        upstream.destroy()
      }
      client.on("close", end).on("error", end)
      upstream.on("close", end).on("error", end)
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as Net.AddressInfo).port,
        mute: () => {
          muted = true
        },
        unmute: () => {
          for (const [client, upstream] of pairs) {
            client.destroy()
            upstream.destroy()
          }
          muted = false
        },
        close: () => {
          for (const [client, upstream] of pairs) {
            client.destroy()
            upstream.destroy()
          }
          server.close()
        }
      })
    )
  })
