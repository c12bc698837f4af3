/**
 * A publish/subscribe destination: every subscription gets its own copy of each message.
 * AMQP: a durable topic exchange, routing key = message type, one durable quorum queue per
 * subscription. Kafka: a topic, one consumer group per subscription. Memory: in-process.
 *
 * @example
 * ```ts
 * export const BankingEvents = Topic.make("banking_events", [TransactionCompleted, UserCreated])
 * ```
 */
import type * as Message from "./Message.ts"

export interface Topic<M extends Message.Any = Message.Any> {
  readonly _tag: "Topic"
  readonly name: string
  readonly messages: ReadonlyArray<M>
}

/** Defines a topic and the message types that may be published to it. */
export const make = <const Ms extends ReadonlyArray<Message.Any>>(name: string, messages: Ms): Topic<Ms[number]> => ({
  _tag: "Topic",
  name,
  messages
})
