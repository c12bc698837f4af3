/**
 * The AMQP 0-9-1 transport (RabbitMQ), on `@cloudamqp/amqp-client`.
 *
 * Topology, declared idempotently by whoever uses it first:
 * - a `Topic` is a durable topic exchange; messages are routed by their type;
 * - a subscription (and a `WorkQueue`) is a durable quorum queue with a dead-letter queue
 *   `<queue>.dlq`; the broker itself dead-letters a message redelivered 20 times
 *   (`x-delivery-limit`), so even a message that crashes its consumer cannot loop forever;
 * - publishes are persistent and confirmed (publisher confirms) before `publish` returns;
 * - consumers use manual acks and `basic.qos` prefetch.
 *
 * The connection is a supervised actor (`actor:amqp-connection`): when the broker goes
 * away it reconnects with backoff, and consumers re-subscribe through their own supervision.
 *
 * @example
 * ```ts
 * const Messaging = AmqpTransport.layer({ url: Redacted.make("amqp://guest:guest@localhost:5672") })
 * ```
 */
import { AMQPClient, AMQPError, type AMQPChannel } from "@cloudamqp/amqp-client"
import { Cause, Config, Deferred, Effect, Layer, Queue, Redacted, Ref, Semaphore } from "effect"
import * as Actor from "./Actor.ts"
import { Health } from "./Health.ts"
import type * as Message from "./Message.ts"
import type { Metrics } from "./Metrics.ts"
import {
  type Address,
  type Delivery,
  type Subscription,
  Transport,
  TransportError,
  type TransportShape
} from "./Transport.ts"

export interface Options {
  readonly url: Redacted.Redacted
  /** Broker redeliveries after which RabbitMQ dead-letters a message on its own. Default 20. */
  readonly deliveryLimit?: number
  /** How long `publish` waits for a connection before failing. Default 5 s. */
  readonly connectTimeout?: number
  /** How long start-up waits for the first connection. Default 10 s. */
  readonly startTimeout?: number
  /**
   * How long a publish (or a dead-letter) waits for the broker's confirm, and a channel or a
   * subscription for the broker's answers, before failing. A broker that stops answering on a
   * live connection then costs a retry, never a stuck consumer. Default 30 s.
   */
  readonly replyTimeout?: number
}

const fail = (operation: string) => (error: unknown) =>
  new TransportError({
    transport: "amqp",
    operation,
    message: error instanceof Error ? error.message : String(error)
  })

const redact = (url: string): string => {
  const parsed = new URL(url)
  parsed.password = ""
  parsed.search = ""
  return parsed.toString()
}

const withDefaults = (url: string): string => {
  const parsed = new URL(url)
  // Heartbeats detect dead peers. (frameMax stays at the client's 8 KiB: the client holds one
  // frameMax-sized buffer per unconfirmed publish, so larger frames cost memory per message.)
  if (!parsed.searchParams.has("heartbeat")) parsed.searchParams.set("heartbeat", "10")
  return parsed.toString()
}

export const queueArguments = (queue: string, deliveryLimit: number) => ({
  "x-queue-type": "quorum",
  "x-dead-letter-exchange": "",
  "x-dead-letter-routing-key": `${queue}.dlq`,
  "x-delivery-limit": deliveryLimit
})

/** Runs a closing call, ignoring its failure and giving up after 2 s (a dead peer never answers). */
const settle = (close: () => Promise<unknown>): Effect.Effect<void> =>
  Effect.promise(() => close().catch(() => undefined)).pipe(Effect.timeoutOption("2 seconds"), Effect.asVoid)

/**
 * Works around two bugs of `@cloudamqp/amqp-client` 4.1.1 that end the process with an
 * unhandled rejection when the connection dies at the wrong moment:
 * - a handshake frame that cannot be written calls `rejectConnect` without its `this`
 *   (a TypeError): bound on each client before it connects;
 * - a publish whose frames cannot be written leaves its confirm promise unobserved, and the
 *   channel's close later rejects it with an `AMQPError` of that connection. The publish itself
 *   has already failed and is retried by its caller, so such a rejection, from one of our
 *   clients, is dropped. Any other unhandled rejection is left to the process's other handlers
 *   or, when there are none, ends the process as Node and Deno do by default.
 */
const hardenClient = (client: AMQPClient): AMQPClient => {
  const internal = client as unknown as { rejectConnect: (error: unknown) => void }
  internal.rejectConnect = internal.rejectConnect.bind(client)
  ourClients.add(client)
  if (!orphanedConfirmsIgnored) {
    orphanedConfirmsIgnored = true
    process.on("unhandledRejection", (reason) => {
      if (reason instanceof AMQPError && ourClients.has(reason.connection)) return
      if (process.listenerCount("unhandledRejection") === 1) throw reason
    })
  }
  return client
}
const ourClients = new WeakSet<object>()
let orphanedConfirmsIgnored = false

const headerString = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined)

/**
 * Runs `send` with the connection's socket corked: the frames it writes (a batch of publishes,
 * a tick's acks) leave in one system call instead of one each.
 */
const corked = <A>(channel: AMQPChannel, send: () => A): A => {
  const socket = channel.connection instanceof AMQPClient ? channel.connection.socket : undefined
  socket?.cork()
  try {
    return send()
  } finally {
    socket?.uncork()
  }
}

/**
 * Acks sent once per tick instead of once per message: the contiguous run of handled
 * delivery tags is acknowledged with one `multiple` ack; handled tags beyond a gap (a
 * message still being retried in another lane) are acknowledged one by one, so a slow
 * message never holds back the others' acks.
 */
const coalescedAcks = (channel: AMQPChannel) => {
  let acked = 0 // every tag up to here is acknowledged
  const handled = new Set<number>() // handled, not yet acknowledged
  const ackedAbove = new Set<number>() // acknowledged one by one, above `acked`
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (channel.closed) return
    let last = 0 // highest tag of the contiguous run still to acknowledge
    while (handled.has(acked + 1) || ackedAbove.has(acked + 1)) {
      if (handled.delete(acked + 1)) last = acked + 1
      else ackedAbove.delete(acked + 1)
      acked++
    }
    corked(channel, () => {
      if (last > 0) channel.basicAck(last, true).catch(() => undefined)
      for (const tag of handled) {
        channel.basicAck(tag).catch(() => undefined)
        ackedAbove.add(tag)
      }
    })
    handled.clear()
  }
  return (tag: number): Effect.Effect<void, TransportError> =>
    Effect.suspend(() => {
      if (channel.closed) return Effect.fail(fail("ack")(new Error("channel closed before the ack was sent")))
      handled.add(tag)
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
      return Effect.void
    })
}

interface Connection {
  readonly client: AMQPClient
  readonly closed: Deferred.Deferred<void>
}

export const make = (options: Options) =>
  Effect.gen(function* () {
    const deliveryLimit = options.deliveryLimit ?? 20
    const replyTimeout = options.replyTimeout ?? 30_000
    /** A call to the broker that fails, naming what it waited for, when no answer comes in time. */
    const call = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, TransportError> =>
      Effect.tryPromise({ try: run, catch: fail(operation) }).pipe(
        Effect.timeoutOrElse({
          duration: replyTimeout,
          orElse: () => Effect.fail(fail(operation)(new Error(`no answer from the broker within ${replyTimeout} ms`)))
        })
      )
    /** A channel, or a failure when the broker does not open one in time (a late one is closed). */
    const openChannel = (client: AMQPClient) =>
      Effect.suspend(() => {
        const opening = new Promise<AMQPChannel>((resolve) => resolve(client.channel()))
        return call("open channel", () => opening).pipe(
          Effect.tapError(() =>
            Effect.sync(() =>
              opening.then(
                (channel) => channel.close().catch(() => undefined),
                () => undefined
              )
            )
          )
        )
      })
    const url = withDefaults(Redacted.value(options.url))
    const current = yield* Ref.make<Connection | undefined>(undefined)
    const connected = yield* Ref.make(yield* Deferred.make<Connection>())
    const lock = yield* Semaphore.make(1)
    let publishChannel: AMQPChannel | undefined
    let lastConnectError = "timed out"
    const declared = new Set<string>()

    // The connection actor: connect, publish the connection, wait for it to drop, fail (→ restart).
    yield* Actor.supervise(
      "amqp-connection",
      (ready) =>
        Effect.gen(function* () {
          const client = hardenClient(new AMQPClient(url))
          const closed = yield* Deferred.make<void>()
          // Set when the broker closed the connection (Connection.Close, or the socket went away):
          // the client marks itself closed only once the socket is gone, a moment later.
          let disconnected = false
          client.ondisconnect = () => {
            disconnected = true
            Deferred.doneUnsafe(closed, Effect.void)
          }
          yield* Effect.acquireRelease(
            Effect.tryPromise({ try: () => client.connect(), catch: fail("connect") }).pipe(
              Effect.tapError((error) => Effect.sync(() => (lastConnectError = error.message)))
            ),
            // A connection the broker already closed never answers our close: do not send one
            // (waiting for its answer held every reconnect back by 2 s).
            () => settle(() => (disconnected || client.closed ? Promise.resolve() : client.close()))
          )
          const connection: Connection = { client, closed }
          publishChannel = undefined
          declared.clear()
          yield* Ref.set(current, connection)
          yield* Effect.flatMap(Ref.get(connected), (d) => Deferred.succeed(d, connection))
          yield* ready
          yield* Deferred.await(closed)
          yield* Ref.set(current, undefined)
          yield* Ref.set(connected, yield* Deferred.make<Connection>())
          return yield* Effect.fail(fail("connection")(new Error("connection to the broker was lost")))
        }).pipe(Effect.scoped),
      // Attempts against a broker that is down fail fast (connection refused) and cost nothing:
      // at most 2 s apart, the connection is back within 2 s of the broker.
      { minBackoff: "200 millis", maxBackoff: "2 seconds" }
    )

    const connection: Effect.Effect<Connection, TransportError> = Effect.flatMap(Ref.get(connected), (d) =>
      Deferred.await(d).pipe(
        Effect.timeoutOrElse({
          duration: options.connectTimeout ?? 5_000,
          orElse: () => Effect.fail(fail("connect")(new Error("not connected to the broker")))
        })
      )
    )

    const declare = (channel: AMQPChannel, key: string, run: () => Promise<unknown>) =>
      declared.has(key)
        ? Effect.void
        : call(`declare ${key}`, run).pipe(Effect.tap(() => Effect.sync(() => declared.add(key))))

    const declareQueue = (channel: AMQPChannel, queue: string) =>
      Effect.andThen(
        declare(channel, `queue:${queue}.dlq`, () =>
          channel.queueDeclare(`${queue}.dlq`, { durable: true }, { "x-queue-type": "quorum" })
        ),
        declare(channel, `queue:${queue}`, () =>
          channel.queueDeclare(queue, { durable: true }, queueArguments(queue, deliveryLimit))
        )
      )

    const declareAddress = (channel: AMQPChannel, address: Address) =>
      address.kind === "topic"
        ? declare(channel, `exchange:${address.name}`, () =>
            channel.exchangeDeclare(address.name, "topic", { durable: true })
          )
        : declareQueue(channel, address.name)

    // One confirm-mode channel for all publishes, reopened if the broker closed it.
    const channelForPublish: Effect.Effect<AMQPChannel, TransportError> = lock.withPermits(1)(
      Effect.gen(function* () {
        const { client } = yield* connection
        if (publishChannel !== undefined && !publishChannel.closed) return publishChannel
        const channel = yield* openChannel(client)
        yield* call("confirm select", () => channel.confirmSelect()).pipe(
          Effect.tapError(() => settle(() => channel.close()))
        )
        declared.clear()
        publishChannel = channel
        return channel
      })
    )

    // A publish the broker did not confirm in time fails, so its caller retries instead of waiting
    // forever, and the channel is set aside: the next publish opens a new one. It is closed once
    // every publish still waiting on it has had its own time (closing it at once would leave their
    // confirms unanswered: the client does not reject them when it closes a channel itself).
    const confirmed = (channel: AMQPChannel, operation: string, run: () => Promise<unknown>) =>
      call(operation, run).pipe(
        Effect.tapError((error) =>
          Effect.sync(() => {
            if (!error.message.startsWith("no answer from the broker") || publishChannel !== channel) return
            publishChannel = undefined
            setTimeout(() => void channel.close().catch(() => undefined), replyTimeout).unref()
          })
        ),
        Effect.asVoid
      )

    const send = (
      channel: AMQPChannel,
      exchange: string,
      routingKey: string,
      raw: Message.Raw,
      headers: Record<string, unknown> = {}
    ) =>
      channel.basicPublish(exchange, routingKey, raw.body, {
        contentType: "application/json",
        deliveryMode: 2,
        messageId: raw.id,
        type: raw.type,
        timestamp: new Date(raw.occurredAt),
        headers: {
          "x-key": raw.key,
          "x-occurred-at": raw.occurredAt,
          ...(raw.traceparent ? { traceparent: raw.traceparent } : {}),
          ...headers
        }
      })

    const publish = (address: Address, messages: ReadonlyArray<Message.Raw>): Effect.Effect<void, TransportError> =>
      Effect.gen(function* () {
        if (messages.length === 0) return
        const channel = yield* channelForPublish
        yield* declareAddress(channel, address)
        const exchange = address.kind === "topic" ? address.name : ""
        // Pipelined: all frames go out (in one write), then we wait for every confirm.
        yield* confirmed(channel, `publish to ${address.name}`, () =>
          Promise.all(
            corked(channel, () =>
              messages.map((raw) => send(channel, exchange, address.kind === "topic" ? raw.type : address.name, raw))
            )
          )
        )
      })

    const consume = (subscription: Subscription) =>
      Effect.gen(function* () {
        // A subscription waits for the connection as long as it takes (its consumer shows as not
        // ready meanwhile), so it is back the moment the connection is, not after a backoff.
        const { client, closed } = yield* Effect.flatMap(Ref.get(connected), Deferred.await)
        const channel = yield* Effect.acquireRelease(openChannel(client), (channel) =>
          settle(() => (channel.closed ? Promise.resolve() : channel.close()))
        )
        const queue = subscription.name
        yield* call(`declare subscription ${queue}`, async () => {
          await channel.queueDeclare(`${queue}.dlq`, { durable: true }, { "x-queue-type": "quorum" })
          await channel.queueDeclare(queue, { durable: true }, queueArguments(queue, deliveryLimit))
          if (subscription.address.kind === "topic") {
            await channel.exchangeDeclare(subscription.address.name, "topic", { durable: true })
            for (const type of subscription.types) await channel.queueBind(queue, subscription.address.name, type)
          }
          await channel.basicQos(subscription.prefetch)
        })
        const deliveries = yield* Queue.unbounded<Delivery, TransportError>()
        const ack = coalescedAcks(channel)
        const consumer = yield* Effect.acquireRelease(
          call(`consume ${queue}`, () =>
            channel.basicConsume(queue, { noAck: false }, (msg) => {
              const headers = msg.properties.headers ?? {}
              const occurredAt = Number(headers["x-occurred-at"] ?? msg.properties.timestamp?.getTime() ?? 0)
              const previous = Number(headers["x-delivery-count"] ?? 0)
              Queue.offerUnsafe(deliveries, {
                message: {
                  id: msg.properties.messageId ?? "",
                  type: msg.properties.type ?? "",
                  key: headerString(headers["x-key"]) ?? "",
                  occurredAt,
                  traceparent: headerString(headers["traceparent"]),
                  body: msg.body ?? new Uint8Array()
                },
                deliveryCount: msg.redelivered ? Math.max(2, previous + 1) : 1,
                ack: ack(msg.deliveryTag)
              })
            })
          ),
          (consumer) => settle(() => (channel.closed ? Promise.resolve() : consumer.cancel()))
        )
        // When the channel or connection dies, the consumer's loop fails and its supervisor resubscribes.
        // The connection is watched too: a consumer the client lost track of would otherwise wait forever.
        yield* Effect.forkScoped(
          Effect.andThen(
            Deferred.await(closed),
            Queue.failCause(deliveries, Cause.fail(fail("consume")(new Error("connection to the broker was lost"))))
          )
        )
        consumer.wait().then(
          () =>
            Queue.failCauseUnsafe(
              deliveries,
              Cause.fail(fail("consume")(new Error(`consumer of ${queue} was closed`)))
            ),
          (error) => Queue.failCauseUnsafe(deliveries, Cause.fail(fail("consume")(error)))
        )
        return deliveries as Queue.Dequeue<Delivery, TransportError>
      })

    const deadLetter: TransportShape["deadLetter"] = (subscription, delivery, deadLetter) =>
      Effect.gen(function* () {
        const channel = yield* channelForPublish
        yield* declareQueue(channel, subscription.name)
        yield* confirmed(channel, `dead-letter to ${subscription.name}.dlq`, () =>
          send(channel, "", `${subscription.name}.dlq`, delivery.message, {
            "x-error": deadLetter.error.slice(0, 4000),
            "x-error-reason": deadLetter.reason,
            "x-attempts": deadLetter.attempts,
            "x-original-destination": subscription.address.name,
            "x-original-type": delivery.message.type
          })
        )
      })

    // Readiness follows the connection itself, not only the actor's state.
    yield* Health.register(
      "broker",
      Effect.flatMap(Ref.get(current), (c) =>
        c === undefined ? Effect.fail(new Error("not connected to RabbitMQ")) : Effect.void
      )
    )

    // Fail fast at start: an unreachable broker is a start-up error naming the URL (without
    // its password), not a service that looks healthy; later outages reconnect on their own.
    yield* connection.pipe(
      Effect.timeoutOrElse({
        duration: options.startTimeout ?? 10_000,
        orElse: () => Effect.fail(fail("connect")(new Error("timed out")))
      }),
      Effect.mapError(
        () =>
          new TransportError({
            transport: "amqp",
            operation: "connect",
            message: `cannot connect to AMQP_URL ${redact(url)}: ${lastConnectError}`
          })
      )
    )

    return Transport.of({
      kind: "amqp",
      publish,
      consume,
      deadLetter,
      check: Effect.flatMap(Ref.get(current), (c) =>
        c === undefined ? Effect.fail(fail("check")(new Error("not connected"))) : Effect.void
      )
    })
  })

/** Settings read from the environment: `AMQP_URL` (secret: it carries the password). */
export const config = Config.Redacted("AMQP_URL")

export const layer = (options: Options): Layer.Layer<Transport, TransportError, Health | Metrics> =>
  Layer.effect(Transport, make(options))

export const layerConfig: Layer.Layer<Transport, Config.ConfigError | TransportError, Health | Metrics> = Layer.effect(
  Transport,
  Effect.flatMap(config, (url) => make({ url }))
)
