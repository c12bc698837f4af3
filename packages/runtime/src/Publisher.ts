/**
 * Direct publishing, outside any database transaction: `publish` returns once the broker
 * has confirmed every message (so a `202 Accepted` after it is a promise that holds).
 * Use `Outbox.publish` instead when the message must be published if and only if a
 * database change commits.
 *
 * @example
 * ```ts
 * const ids = yield* Publisher.publish(IngestRecords, RecordIngested, records)
 * ```
 */
import { Effect, type Schema } from "effect"
import * as Message from "./Message.ts"
import { Metrics } from "./Metrics.ts"
import { address, type Destination, Transport, type TransportError } from "./Transport.ts"

type PayloadOf<M> = M extends Message.Message<any, infer A, any> ? A : never

/** Publishes payloads with broker confirms; returns their message ids in order. */
export const publish = <M extends Message.Any, Def extends M>(
  destination: Destination & { readonly messages: ReadonlyArray<M> },
  message: Def,
  payloads: ReadonlyArray<PayloadOf<Def>>
): Effect.Effect<ReadonlyArray<string>, TransportError | Schema.SchemaError, Transport | Metrics> =>
  Effect.gen(function* () {
    const transport = yield* Transport
    const metrics = yield* Metrics
    const raws = yield* Message.encodeAll(message, payloads)
    yield* transport.publish(address(destination), raws)
    metrics
      .counter("troupe_messages_published_total", "Messages confirmed by the broker", ["destination", "type"])
      .inc({ destination: destination.name, type: message.type }, raws.length)
    return raws.map((raw) => raw.id)
  })
