/**
 * A point-to-point destination: competing consumers share the work, each message is
 * handled by one of them. AMQP: a durable quorum queue. Kafka: a topic with one consumer
 * group named after the queue. Memory: an in-process queue.
 *
 * @example
 * ```ts
 * export const IngestRecords = WorkQueue.make("ingest.records", [RecordIngested])
 * ```
 */
import type * as Message from "./Message.ts"

export interface WorkQueue<M extends Message.Any = Message.Any> {
  readonly _tag: "WorkQueue"
  readonly name: string
  readonly messages: ReadonlyArray<M>
}

/** Defines a work queue and the message types it carries. */
export const make = <const Ms extends ReadonlyArray<Message.Any>>(
  name: string,
  messages: Ms
): WorkQueue<Ms[number]> => ({
  _tag: "WorkQueue",
  name,
  messages
})
