/**
 * The transport interface every broker implements (memory, AMQP 0-9-1, Kafka). It moves
 * wire messages; decoding, retries, dead-lettering, ordering lanes and batching live
 * once in `Consumer`, above it.
 *
 * - `publish` resolves only once the broker has confirmed every message (publisher confirms, `acks=-1`).
 * - `consume` yields deliveries, at most `prefetch` unacknowledged at a time; a delivery is
 *   removed from the broker only by `ack`. When the subscription scope closes, unacknowledged
 *   deliveries return to the broker for redelivery.
 * - `deadLetter` stores a message with its error in the subscription's dead-letter destination.
 */
import { Context, Effect, Queue, Schema, Scope } from "effect"
import type * as Message from "./Message.ts"
import type { Topic } from "./Topic.ts"
import type { WorkQueue } from "./WorkQueue.ts"

export type Destination = Topic<any> | WorkQueue<any>

/** What a transport needs to know about a destination. */
export interface Address {
  readonly kind: "topic" | "queue"
  readonly name: string
}

export const address = (destination: Destination): Address => ({
  kind: destination._tag === "Topic" ? "topic" : "queue",
  name: destination.name
})

export interface Subscription {
  readonly address: Address
  /** Queue name (AMQP), consumer group (Kafka). For a work queue, the queue's own name. */
  readonly name: string
  /** Message types to receive (AMQP binding keys). */
  readonly types: ReadonlyArray<string>
  /** Upper bound of unacknowledged deliveries held by this consumer. */
  readonly prefetch: number
}

export interface Delivery {
  readonly message: Message.Raw
  /** How many times the broker has delivered this message, 1 on first delivery. */
  readonly deliveryCount: number
  readonly ack: Effect.Effect<void, TransportError>
}

export interface DeadLetter {
  readonly reason: "poison" | "exhausted"
  readonly error: string
  readonly attempts: number
}

export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  transport: Schema.String,
  operation: Schema.String,
  message: Schema.String
}) {}

export interface TransportShape {
  readonly kind: "memory" | "amqp" | "kafka"
  readonly publish: (address: Address, messages: ReadonlyArray<Message.Raw>) => Effect.Effect<void, TransportError>
  readonly consume: (
    subscription: Subscription
  ) => Effect.Effect<Queue.Dequeue<Delivery, TransportError>, TransportError, Scope.Scope>
  readonly deadLetter: (
    subscription: Subscription,
    delivery: Delivery,
    deadLetter: DeadLetter
  ) => Effect.Effect<void, TransportError>
  /** Succeeds while the transport is connected. */
  readonly check: Effect.Effect<void, TransportError>
}

/** The message broker of the running service. */
export class Transport extends Context.Service<Transport, TransportShape>()("@troupe/runtime/Transport") {}
