/**
 * The in-process transport used in embedded mode and unit tests. It follows AMQP
 * semantics: a work queue or topic subscription is a queue; consumers compete for it;
 * at most `prefetch` unacknowledged deliveries per consumer; a consumer that goes away
 * returns its unacknowledged deliveries to the front of the queue (redelivered with a
 * higher delivery count); publishers wait while a queue is full.
 *
 * It keeps messages in memory only: a hard kill loses what was published but not yet
 * handled (the outbox keeps what was not yet published). Messages published to a topic
 * before anyone subscribed are kept (bounded) for the first subscriptions that bind.
 *
 * @example
 * ```ts
 * const program = myService.pipe(Effect.provide(MemoryTransport.layer()))
 * ```
 */
import { Effect, Layer, Queue } from "effect"
import { Deque } from "./internal/Deque.ts"
import type * as Message from "./Message.ts"
import { type DeadLetter, type Delivery, Transport, TransportError, type TransportShape } from "./Transport.ts"

interface Entry {
  readonly raw: Message.Raw
  readonly deliveryCount: number
}

interface Consumer {
  readonly prefetch: number
  readonly unacked: Map<number, Entry>
  readonly deliveries: Queue.Queue<Delivery, TransportError>
}

class MemoryQueue {
  readonly ready = new Deque<Entry>()
  readonly consumers: Array<Consumer> = []
  readonly waiters: Array<() => void> = []
  next = 0
  readonly capacity: number
  constructor(capacity: number) {
    this.capacity = capacity
  }
}

interface Binding {
  readonly queue: MemoryQueue
  readonly types: ReadonlySet<string>
}

export interface Options {
  /** Messages a queue holds before publishers wait. Default 100 000. */
  readonly queueCapacity?: number
  /** Messages kept for a topic nobody has subscribed to yet. Default 10 000. */
  readonly unroutedCapacity?: number
}

/** A broker inspection handle, for tests and the embedded launcher. */
export interface MemoryBroker {
  readonly depth: (queue: string) => number
  readonly unacked: (queue: string) => number
  readonly deadLetters: (
    queue: string
  ) => ReadonlyArray<{ readonly message: Message.Raw; readonly deadLetter: DeadLetter }>
}

export const make = (options: Options = {}): TransportShape & { readonly broker: MemoryBroker } => {
  const capacity = options.queueCapacity ?? 100_000
  const unroutedCapacity = options.unroutedCapacity ?? 10_000
  const queues = new Map<string, MemoryQueue>()
  const bindings = new Map<string, Array<Binding>>()
  const unrouted = new Map<string, Array<Message.Raw>>()
  const dead = new Map<string, Array<{ message: Message.Raw; deadLetter: DeadLetter }>>()
  let tags = 0

  const queueNamed = (name: string): MemoryQueue => {
    let queue = queues.get(name)
    if (queue === undefined) {
      queue = new MemoryQueue(capacity)
      queues.set(name, queue)
    }
    return queue
  }

  const pump = (queue: MemoryQueue): void => {
    while (queue.ready.length > 0) {
      const consumer = pickConsumer(queue)
      if (consumer === undefined) break
      const entry = queue.ready.shift()!
      const tag = ++tags
      consumer.unacked.set(tag, entry)
      Queue.offerUnsafe(consumer.deliveries, {
        message: entry.raw,
        deliveryCount: entry.deliveryCount,
        ack: Effect.sync(() => {
          if (consumer.unacked.delete(tag)) pump(queue)
        })
      })
    }
    while (queue.waiters.length > 0 && queue.ready.length < queue.capacity) queue.waiters.shift()!()
  }

  // Round-robin over consumers that have room under their prefetch.
  const pickConsumer = (queue: MemoryQueue): Consumer | undefined => {
    const n = queue.consumers.length
    for (let i = 0; i < n; i++) {
      const consumer = queue.consumers[(queue.next + i) % n]!
      if (consumer.unacked.size < consumer.prefetch) {
        queue.next = (queue.next + i + 1) % n
        return consumer
      }
    }
    return undefined
  }

  const enqueue = (queue: MemoryQueue, raw: Message.Raw): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (queue.ready.length < queue.capacity) {
        queue.ready.push({ raw, deliveryCount: 1 })
        pump(queue)
        return Effect.void
      }
      return Effect.andThen(
        Effect.callback<void>((resume) => {
          queue.waiters.push(() => resume(Effect.void))
        }),
        enqueue(queue, raw)
      )
    })

  const route = (kind: "topic" | "queue", name: string, raw: Message.Raw): Effect.Effect<void> => {
    if (kind === "queue") return enqueue(queueNamed(name), raw)
    const bound = bindings.get(name)
    if (bound === undefined) {
      const pending = unrouted.get(name) ?? []
      if (pending.length < unroutedCapacity) pending.push(raw)
      unrouted.set(name, pending)
      return Effect.void
    }
    return Effect.forEach(
      bound.filter((b) => b.types.has(raw.type)),
      (b) => enqueue(b.queue, raw),
      { discard: true }
    )
  }

  const transport: TransportShape = {
    kind: "memory",
    publish: (address, messages) =>
      Effect.forEach(messages, (raw) => route(address.kind, address.name, raw), { discard: true }),
    consume: (subscription) =>
      Effect.gen(function* () {
        const queue = queueNamed(subscription.name)
        if (subscription.address.kind === "topic") {
          const topic = subscription.address.name
          const bound = bindings.get(topic) ?? []
          if (!bound.some((b) => b.queue === queue)) {
            bound.push({ queue, types: new Set(subscription.types) })
            bindings.set(topic, bound)
            const pending = unrouted.get(topic)
            unrouted.delete(topic)
            for (const raw of pending ?? []) {
              if (subscription.types.includes(raw.type)) queue.ready.push({ raw, deliveryCount: 1 })
            }
          }
        }
        const deliveries = yield* Queue.unbounded<Delivery, TransportError>()
        const consumer: Consumer = { prefetch: Math.max(1, subscription.prefetch), unacked: new Map(), deliveries }
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            queue.consumers.push(consumer)
            pump(queue)
          }),
          () =>
            Effect.sync(() => {
              queue.consumers.splice(queue.consumers.indexOf(consumer), 1)
              // Unacknowledged deliveries go back to the front, in their original order.
              const returned = [...consumer.unacked.values()].map((e) => ({
                raw: e.raw,
                deliveryCount: e.deliveryCount + 1
              }))
              consumer.unacked.clear()
              queue.ready.prepend(returned)
              Queue.shutdownUnsafe(deliveries)
              pump(queue)
            })
        )
        return deliveries
      }),
    deadLetter: (subscription, delivery, deadLetter) =>
      Effect.sync(() => {
        const list = dead.get(subscription.name) ?? []
        list.push({ message: delivery.message, deadLetter })
        dead.set(subscription.name, list)
      }),
    check: Effect.void
  }
  return {
    ...transport,
    broker: {
      depth: (name) => queues.get(name)?.ready.length ?? 0,
      unacked: (name) => (queues.get(name)?.consumers ?? []).reduce((n, c) => n + c.unacked.size, 0),
      deadLetters: (name) => dead.get(name) ?? []
    }
  }
}

/** A new, private in-process broker (tests). */
export const layer = (options?: Options): Layer.Layer<Transport> => Layer.sync(Transport, () => make(options))

let shared: ReturnType<typeof make> | undefined

/** The process-wide in-process broker: every service in the process (embedded mode) talks through it. */
export const layerShared: Layer.Layer<Transport> = Layer.sync(Transport, () => (shared ??= make()))

export { TransportError }
