/**
 * Consumers: a supervised actor per subscription that receives messages from the
 * transport and runs a handler with the delivery guarantees of the runtime.
 *
 * - at-least-once: a message is acknowledged only after the handler succeeded (and so after
 *   its database transaction committed); use `Inbox.dedupe` to make the effect exactly-once;
 * - per-key order: messages with the same key go to the same lane and are handled one after
 *   the other; different keys run concurrently in `concurrency` lanes;
 * - batches: a lane hands the handler up to `maxBatch` messages that are already waiting;
 *   if a batch fails, its messages are retried one by one so one bad message cannot block the rest;
 * - retries with exponential backoff, then dead-lettering with the error attached;
 * - poison (undecodable) messages are dead-lettered at once, never crash the consumer;
 * - backpressure: at most `prefetch` unacknowledged messages are held.
 *
 * @example
 * ```ts
 * const Notifications = Consumer.layer({
 *   from: BankingEvents,
 *   name: "notifications",
 *   messages: [TransactionCompleted, UserCreated],
 *   handle: Inbox.dedupe("notifications", (batch) => store(batch))
 * })
 * ```
 */
import { Cause, Duration, Effect, Exit, Layer, Queue, Scope } from "effect"
import * as Actor from "./Actor.ts"
import { describe, Health } from "./Health.ts"
import * as Message from "./Message.ts"
import { Metrics } from "./Metrics.ts"
import type { Topic } from "./Topic.ts"
import { address, type Delivery, type Subscription, Transport, type TransportError } from "./Transport.ts"
import type { WorkQueue } from "./WorkQueue.ts"

export interface Options<M extends Message.Any, E, R> {
  readonly from: Topic<M> | WorkQueue<M>
  /** Subscription name: the AMQP queue / Kafka consumer group. Required for topics; a work queue uses its own name. */
  readonly name?: string
  /** The message types to receive; default: all of the destination's. */
  readonly messages?: ReadonlyArray<M>
  /** Handles a batch of envelopes, in order. With the default `maxBatch` of 1, every batch has one envelope. */
  readonly handle: (batch: ReadonlyArray<Message.EnvelopeOf<M>>) => Effect.Effect<void, E, R>
  /** Largest batch handed to `handle`. Default 1. */
  readonly maxBatch?: number
  /** Lanes handling different keys concurrently. Default 8. */
  readonly concurrency?: number
  /** Unacknowledged messages held at most. Default: enough to keep every lane's batch full twice. */
  readonly prefetch?: number
  /** Attempts per message (including broker redeliveries) before dead-lettering. Default 5. */
  readonly maxAttempts?: number
  /** First retry delay, doubled per attempt and capped at 10 s. Default 200 ms. */
  readonly retryBackoff?: Duration.Input
  /** A handler call taking longer fails (and is retried). Default 30 s. */
  readonly handlerTimeout?: Duration.Input
}

/** Errors that say "try again later" (`isRetryable`, like a lost database connection). */
const isTransient = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { isRetryable?: unknown }).isRetryable === true

// FNV-1a: cheap, stable key → lane mapping.
const hash = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

const subscriptionOf = <M extends Message.Any>(options: Options<M, any, any>): Subscription => {
  const maxBatch = Math.max(1, options.maxBatch ?? 1)
  const concurrency = Math.max(1, options.concurrency ?? 8)
  if (options.from._tag === "Topic" && options.name === undefined) {
    throw new Error(`Consumer of topic "${options.from.name}" needs a subscription name`)
  }
  return {
    address: address(options.from),
    name: options.name ?? options.from.name,
    types: (options.messages ?? options.from.messages).map((m) => m.type),
    prefetch: options.prefetch ?? Math.max(32, concurrency * maxBatch * 2)
  }
}

/**
 * Runs the consumer until it fails (broker connection lost) — used by `layer` under supervision.
 */
export const run = <M extends Message.Any, E, R>(
  options: Options<M, E, R>,
  ready: Effect.Effect<void> = Effect.void
): Effect.Effect<never, TransportError, R | Transport | Metrics | Scope.Scope> =>
  Effect.gen(function* () {
    const transport = yield* Transport
    const metrics = yield* Metrics
    const subscription = subscriptionOf(options)
    const consumer = subscription.name
    const maxBatch = Math.max(1, options.maxBatch ?? 1)
    const concurrency = Math.max(1, options.concurrency ?? 8)
    const maxAttempts = Math.max(1, options.maxAttempts ?? 5)
    const backoff = Duration.toMillis(Duration.fromInputUnsafe(options.retryBackoff ?? "200 millis"))
    const timeout = Duration.fromInputUnsafe(options.handlerTimeout ?? "30 seconds")
    const definitions = new Map<string, Message.Any>(
      (options.messages ?? options.from.messages).map((m) => [m.type, m])
    )

    const consumed = metrics.counter("troupe_messages_consumed_total", "Messages taken off a queue, by outcome", [
      "consumer",
      "type",
      "outcome"
    ])
    const retried = metrics.counter("troupe_message_retries_total", "Handler attempts that failed and were retried", [
      "consumer"
    ])
    const deadLettered = metrics.counter(
      "troupe_messages_dead_lettered_total",
      "Messages moved to a dead-letter queue",
      ["consumer", "reason"]
    )
    const duration = metrics.histogram(
      "troupe_message_handler_duration_seconds",
      "Time spent in message handlers per call",
      ["consumer"]
    )
    const batchSize = metrics.histogram(
      "troupe_message_batch_size",
      "Messages per handler call",
      ["consumer"],
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000]
    )
    metrics
      .gauge("troupe_consumer_prefetch", "Unacknowledged messages a consumer may hold", ["consumer"])
      .set({ consumer }, subscription.prefetch)
    const active = metrics.gauge("troupe_consumers_active", "Consumers currently subscribed", ["consumer"])
    // Series exist from the start (at 0), so the first failure shows in rate() and increase().
    retried.inc({ consumer }, 0)
    for (const reason of ["poison", "exhausted"]) deadLettered.inc({ consumer, reason }, 0)
    for (const type of definitions.keys()) {
      for (const outcome of ["processed", "dead_lettered"]) consumed.inc({ consumer, type, outcome }, 0)
    }

    const call = (batch: ReadonlyArray<Message.Envelope>) =>
      Effect.suspend(() => {
        const end = duration.startTimer({ consumer })
        batchSize.observe({ consumer }, batch.length)
        return options.handle(batch as ReadonlyArray<Message.EnvelopeOf<M>>).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () => Effect.fail(`handler timed out after ${Duration.format(timeout)}`)
          }),
          Effect.ensuring(Effect.sync(end)),
          Effect.exit
        )
      })

    const deadLetter = (delivery: Delivery, reason: "poison" | "exhausted", error: string, attempts: number) =>
      transport.deadLetter(subscription, delivery, { reason, error, attempts }).pipe(
        Effect.andThen(delivery.ack),
        Effect.tap(() =>
          Effect.sync(() => {
            deadLettered.inc({ consumer, reason })
            consumed.inc({ consumer, type: delivery.message.type, outcome: "dead_lettered" })
          })
        ),
        Effect.andThen(
          Effect.logWarning(`message dead-lettered (${reason})`).pipe(
            Effect.annotateLogs({
              consumer,
              messageId: delivery.message.id,
              type: delivery.message.type,
              error,
              attempts
            })
          )
        )
      )

    // A failure of the infrastructure the handler depends on (the database is down, a broker is
    // unreachable: errors marked `isRetryable`) says nothing about the message: it is retried
    // without limit, at most every 10 s, holding its lane, and never dead-lettered for it.
    const single = (delivery: Delivery, envelope: Message.Envelope) =>
      Effect.gen(function* () {
        const allowed = Math.max(1, maxAttempts - (delivery.deliveryCount - 1))
        let lastError = ""
        let attempt = 0
        let tries = 0
        while (attempt < allowed) {
          if (tries > 0) {
            retried.inc({ consumer })
            yield* Effect.interruptible(Effect.sleep(Duration.millis(Math.min(backoff * 2 ** (tries - 1), 10_000))))
          }
          const exit = yield* call([{ ...envelope, attempt: envelope.attempt + tries }])
          tries++
          if (Exit.isSuccess(exit)) {
            yield* delivery.ack
            consumed.inc({ consumer, type: envelope.type, outcome: "processed" })
            return
          }
          const error = Cause.squash(exit.cause)
          lastError = describe(error)
          if (isTransient(error)) {
            if (tries === 1 || tries % 10 === 0) {
              yield* Effect.logWarning(`handler of ${consumer} cannot reach its infrastructure; retrying`).pipe(
                Effect.annotateLogs({ messageId: envelope.id, error: lastError })
              )
            }
            continue
          }
          attempt++
        }
        yield* deadLetter(delivery, "exhausted", lastError, envelope.attempt + tries - 1)
      })

    const processBatch = (deliveries: ReadonlyArray<Delivery>) =>
      Effect.gen(function* () {
        const good: Array<readonly [Delivery, Message.Envelope]> = []
        for (const delivery of deliveries) {
          const decoded = Message.decode(definitions, delivery.message, delivery.deliveryCount)
          if (Exit.isSuccess(decoded)) good.push([delivery, decoded.value])
          else yield* deadLetter(delivery, "poison", describe(Cause.squash(decoded.cause)), delivery.deliveryCount)
        }
        if (good.length === 0) return
        if (good.length === 1) return yield* single(good[0]![0], good[0]![1])
        const exit = yield* call(good.map(([, envelope]) => envelope))
        if (Exit.isSuccess(exit)) {
          yield* Effect.forEach(good, ([delivery]) => delivery.ack, { discard: true })
          const byType = new Map<string, number>()
          for (const [, envelope] of good) byType.set(envelope.type, (byType.get(envelope.type) ?? 0) + 1)
          for (const [type, n] of byType) consumed.inc({ consumer, type, outcome: "processed" }, n)
          return
        }
        // One bad message must not block the batch: retry them one at a time.
        yield* Effect.forEach(good, ([delivery, envelope]) => single(delivery, envelope), { discard: true })
      }).pipe(Effect.uninterruptible)

    const deliveries = yield* transport.consume(subscription)
    const lanes = yield* Effect.forEach(Array.from({ length: concurrency }), () =>
      Queue.bounded<Delivery>(subscription.prefetch)
    )
    yield* Effect.acquireRelease(
      Effect.sync(() => active.inc({ consumer })),
      () => Effect.sync(() => active.dec({ consumer }))
    )
    yield* ready
    // Everything that has arrived is handed out at once, grouped by lane: a lane then starts its
    // transaction with every message waiting for it, not just the first (one at a time, lanes
    // woke up to batches of one or two while the rest were still being dispatched).
    const dispatch = Effect.forever(
      Effect.flatMap(Queue.takeAll(deliveries), (arrived) => {
        const byLane = lanes.map((): Array<Delivery> => [])
        for (const delivery of arrived) byLane[hash(delivery.message.key) % concurrency]!.push(delivery)
        return Effect.forEach(lanes, (lane, i) => Queue.offerAll(lane, byLane[i]!), { discard: true })
      })
    )
    const lane = (queue: Queue.Queue<Delivery>) =>
      Effect.forever(Effect.flatMap(Queue.takeBetween(queue, 1, maxBatch), processBatch))
    return yield* Effect.all([dispatch, ...lanes.map(lane)], { concurrency: "unbounded" }).pipe(
      Effect.andThen(Effect.never)
    )
  })

/**
 * A supervised consumer for the lifetime of the service: restarted with backoff when the
 * broker connection is lost, visible in `/health/ready` as `actor:consumer:<name>`.
 */
export const layer = <M extends Message.Any, E, R>(
  options: Options<M, E, R>
): Layer.Layer<never, never, Exclude<R, Scope.Scope> | Transport | Metrics | Health> => {
  const name = subscriptionOf(options).name
  // Restarts back off to at most 10 s, as the broker connection does: after a long outage the
  // consumer is back within seconds of its connection, not up to half a minute later.
  return Actor.layer(`consumer:${name}`, (ready) => Effect.scoped(run(options, ready)), { maxBackoff: "10 seconds" })
}
