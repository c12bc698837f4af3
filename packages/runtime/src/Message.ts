/**
 * Typed messages: a message type name bound to a `Schema`, plus the envelope every
 * message travels in (id, type, key, occurredAt, attempt, traceparent).
 *
 * @example
 * ```ts
 * const TransactionCompleted = Message.make("transaction.completed", Schema.Struct({
 *   accountId: Schema.String, amountMinor: Schema.Int
 * }), { key: (e) => e.accountId })
 * ```
 */
import { Cause, Clock, Effect, Exit, Schema } from "effect"
import { uuidv7 } from "./internal/uuid.ts"

/** A message definition: its wire type name, its schema and how to derive its ordering key. */
export interface Message<Type extends string, A, I = unknown> {
  readonly type: Type
  readonly schema: Schema.Codec<A, I>
  readonly key: (payload: A) => string
  /** JSON codec derived once from `schema`. */
  readonly json: Schema.Codec<A, Schema.Json>
}

/** Any message definition. */
export type Any = Message<string, any, any>

/** The decoded envelope a handler receives. */
export interface Envelope<Type extends string = string, A = unknown> {
  readonly id: string
  readonly type: Type
  readonly key: string
  readonly occurredAt: Date
  /** 1 on first delivery, incremented by every retry or redelivery. */
  readonly attempt: number
  readonly traceparent: string | undefined
  readonly payload: A
}

/** The envelope type of one message definition, or of a union of them. */
export type EnvelopeOf<M extends Any> = M extends Message<infer T, infer A, any> ? Envelope<T, A> : never

/** A message as bytes on the wire, transport independent. */
export interface Raw {
  readonly id: string
  readonly type: string
  readonly key: string
  readonly occurredAt: number
  readonly traceparent: string | undefined
  /** UTF-8 JSON, as produced by `encode` (a string) or received from a broker (bytes). */
  readonly body: string | Uint8Array
}

/**
 * Defines a message type.
 *
 * @example
 * ```ts
 * const UserCreated = Message.make("user.created", Schema.Struct({ userId: Schema.String }), {
 *   key: (e) => e.userId
 * })
 * ```
 */
export const make = <const Type extends string, A, I>(
  type: Type,
  schema: Schema.Codec<A, I>,
  options: { readonly key: (payload: A) => string }
): Message<Type, A, I> => ({
  type,
  schema,
  key: options.key,
  json: Schema.toCodecJson(schema) as unknown as Schema.Codec<A, Schema.Json>
})

const decoder = new TextDecoder("utf-8", { fatal: true })
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Encodes payloads into wire messages with fresh UUIDv7 ids (one clock reading per call).
 */
export const encodeAll = <T extends string, A>(
  message: Message<T, A, any>,
  payloads: ReadonlyArray<A>,
  options?: { readonly traceparent?: string | undefined }
): Effect.Effect<Array<Raw>, Schema.SchemaError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<Array<Raw>, Schema.SchemaError> => {
    const encode = Schema.encodeExit(message.json)
    const out: Array<Raw> = []
    for (const payload of payloads) {
      const json = encode(payload)
      if (json._tag === "Failure") return Effect.failCause(json.cause)
      out.push({
        id: uuidv7(now),
        type: message.type,
        key: message.key(payload),
        occurredAt: now,
        traceparent: options?.traceparent,
        body: JSON.stringify(json.value)
      })
    }
    return Effect.succeed(out)
  })

/**
 * Encodes a payload into a wire message with a fresh UUIDv7 id.
 */
export const encode = <T extends string, A>(
  message: Message<T, A, any>,
  payload: A,
  options?: { readonly traceparent?: string | undefined }
): Effect.Effect<Raw, Schema.SchemaError> => Effect.map(encodeAll(message, [payload], options), (raws) => raws[0]!)

/** Why a wire message could not be decoded: it is poison and goes to the dead-letter destination. */
export class PoisonMessage extends Schema.TaggedError<PoisonMessage>()("PoisonMessage", {
  messageId: Schema.String,
  type: Schema.String,
  message: Schema.String
}) {}

/**
 * Decodes a wire message with the definition registered for its type (synchronously: this
 * runs once per consumed message). Unknown types, a missing or malformed message id (the
 * inbox deduplicates by it), invalid UTF-8, invalid JSON, schema mismatches and payloads that
 * break the decoder (nested deep enough to overflow its stack) are `PoisonMessage`s.
 */
export const decode = (
  definitions: ReadonlyMap<string, Any>,
  raw: Raw,
  attempt: number
): Exit.Exit<Envelope<string, unknown>, PoisonMessage> => {
  const poison = (message: string) => Exit.fail(new PoisonMessage({ messageId: raw.id, type: raw.type, message }))
  const definition = definitions.get(raw.type)
  if (definition === undefined) return poison(`no handler is registered for message type "${raw.type}"`)
  if (!uuidShape.test(raw.id)) return poison("the message id is missing or not a UUID")
  let json: unknown
  try {
    json = JSON.parse(typeof raw.body === "string" ? raw.body : decoder.decode(raw.body))
  } catch (error) {
    return poison(`body is not UTF-8 JSON: ${(error as Error).message}`)
  }
  let payload: Exit.Exit<unknown, Schema.SchemaError>
  try {
    payload = Schema.decodeUnknownExit(definition.json)(json)
  } catch (error) {
    return poison(`payload cannot be decoded: ${(error as Error).message}`)
  }
  if (payload._tag === "Failure") {
    const error = Cause.squash(payload.cause)
    return poison(`payload does not match ${raw.type}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return Exit.succeed({
    id: raw.id,
    type: raw.type,
    key: raw.key,
    occurredAt: new Date(raw.occurredAt),
    attempt,
    traceparent: raw.traceparent,
    payload: payload.value
  })
}
