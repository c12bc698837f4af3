/**
 * The Kafka transport, on `kafkajs`.
 *
 * Topology:
 * - a `Topic` is a Kafka topic, and each of its subscriptions is a consumer group named after
 *   the subscription; a `WorkQueue` is a topic consumed by one group named after the queue;
 * - the envelope key is the record key, so one key always lands in one partition (per-key order);
 *   id, type, occurredAt and traceparent travel as CloudEvents headers (`ce_id`, `ce_type`,
 *   `ce_time`, `traceparent`; Kafka protocol binding, binary mode), the body is the record value;
 * - publishes wait for `acks: -1` (every in-sync replica) and are idempotent when the broker
 *   lets kafkajs initialise a producer id;
 * - dead letters go to `<topic>.dlq` with the error in `x-error*` headers;
 * - topics (and their `.dlq`) are created on first use with the configured partitions and
 *   replication factor, where the broker allows it; otherwise the broker auto-creates them.
 *
 * Consumption: deliveries are handed to the runtime's `Consumer` in partition order, at most
 * `prefetch` unacknowledged at a time. Offsets are committed only for the contiguous prefix of
 * acknowledged messages of each partition (never auto-committed), and a fetched batch is finished
 * — every message acknowledged and committed — before the member fetches again or takes part in
 * a rebalance. A member that dies loses nothing: its uncommitted messages go to the member that
 * takes over its partitions. Kafka keeps no delivery counts, so before handing messages out the
 * consumer records in its committed offset's metadata how far it has delivered; the member that
 * takes over knows which messages are redeliveries (`deliveryCount` ≥ 2), and a message delivered
 * more than `deliveryLimit` times (one that crashes every consumer) is dead-lettered unseen.
 *
 * The producer connection is a supervised actor (`actor:kafka`) that probes the cluster and
 * reconnects with backoff. A group member that crashes on a group-protocol error rejoins as a
 * new member; one whose broker is gone fails its deliveries queue, so the `Consumer`'s own
 * supervisor subscribes it again.
 *
 * @example
 * ```ts
 * const Messaging = KafkaTransport.layer({ brokers: ["kafka-0.kafka:9092"], clientId: "purchases" })
 * ```
 */
import { Cause, Config, Deferred, Duration, Effect, Layer, Option, Queue, Redacted, Ref, Schema } from "effect"
import {
  type Admin,
  type Consumer as KafkaConsumer,
  type EachBatchPayload,
  type IHeaders,
  Kafka,
  type KafkaMessage,
  type LogEntry,
  logLevel,
  type Message as KafkaRecord,
  Partitioners,
  type Producer,
  type SASLOptions
} from "kafkajs"
import { Buffer } from "node:buffer"
import * as Actor from "./Actor.ts"
import type { Health } from "./Health.ts"
import type * as Message from "./Message.ts"
import { Metrics } from "./Metrics.ts"
import { type Address, type Delivery, type Subscription, Transport, TransportError } from "./Transport.ts"

export interface Options {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: ReadonlyArray<string>
  /** Client id sent to the brokers and used as the CloudEvents `ce_source`. Default `troupe`. */
  readonly clientId?: string
  readonly sasl?: {
    readonly mechanism: "plain" | "scram-sha-256" | "scram-sha-512"
    readonly username: string
    readonly password: Redacted.Redacted
  }
  /** TLS: `true` for the system CAs, or PEM material for a private CA / client certificate. */
  readonly tls?:
    | boolean
    | {
        readonly ca?: string | undefined
        readonly cert?: string | undefined
        readonly key?: Redacted.Redacted | undefined
      }
  /** Partitions of topics this transport creates. Default 6. */
  readonly partitions?: number
  /** Replication factor of topics this transport creates; -1 = the broker's default. Default -1. */
  readonly replicationFactor?: number
  /** Where a new consumer group starts: the oldest retained message or only new ones. Default `earliest`. */
  readonly autoOffsetReset?: "earliest" | "latest"
  /** Use an idempotent producer where the broker allows it. Default true. */
  readonly idempotent?: boolean
  /** A group member that sends no heartbeat for this long is replaced. Default 30 s. */
  readonly sessionTimeout?: Duration.Input
  /** How often a group member tells the coordinator it is alive. Default 3 s. */
  readonly heartbeatInterval?: Duration.Input
  /** How long a fetch waits for new messages before it returns empty (`fetch.max.wait.ms`). Default 500 ms. */
  readonly fetchMaxWait?: Duration.Input
  /** Timeout of one broker request. Default 30 s. */
  readonly requestTimeout?: Duration.Input
  /** How long `publish` waits for a connection before failing. Default 5 s. */
  readonly connectTimeout?: Duration.Input
  /** How long start-up waits for the first connection before the layer fails. Default 10 s. */
  readonly startTimeout?: Duration.Input
  /** How often the connection actor probes the cluster. Default 10 s. */
  readonly probeInterval?: Duration.Input
  /** Acknowledged offsets are committed at most this often while a batch is in progress. Default 200 ms. */
  readonly commitInterval?: Duration.Input
  /** Deliveries after which a message is dead-lettered without being handed out again. Default 20. */
  readonly deliveryLimit?: number
}

const fail = (operation: string) => (error: unknown) =>
  new TransportError({
    transport: "kafka",
    operation,
    message: error instanceof Error ? error.message : String(error)
  })

const millis = (input: Duration.Input | undefined, fallback: Duration.Input): number =>
  Duration.toMillis(Duration.fromInputUnsafe(input ?? fallback))

/** The dead-letter topic of a topic. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`

// --- wire format --------------------------------------------------------------

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name]
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : typeof first === "string" ? first : first.toString("utf8")
}

// Messages of one batch usually share their time (one clock reading per outbox write): their
// `ce_time` is formatted and parsed once, not once per message.
const lastOf = <A, B>(f: (a: A) => B): ((a: A) => B) => {
  let last: { readonly a: A; readonly b: B } | undefined
  return (a) => (last !== undefined && last.a === a ? last.b : (last = { a, b: f(a) }).b)
}
const formatTime = lastOf((ms: number) => new Date(ms).toISOString())
const parseTime = lastOf((text: string) => Date.parse(text))

const toBuffer = (body: string | Uint8Array): string | Buffer =>
  typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)

const toRecord = (source: string, raw: Message.Raw, extra: Record<string, string> = {}): KafkaRecord => ({
  key: raw.key,
  value: toBuffer(raw.body),
  timestamp: String(raw.occurredAt),
  headers: {
    ce_specversion: "1.0",
    ce_id: raw.id,
    ce_type: raw.type,
    ce_source: source,
    ce_time: formatTime(raw.occurredAt),
    "content-type": "application/json",
    ...(raw.traceparent ? { traceparent: raw.traceparent } : {}),
    ...extra
  }
})

const toRaw = (message: KafkaMessage): Message.Raw => {
  const time = header(message.headers, "ce_time")
  const occurredAt = time === undefined ? Number.NaN : parseTime(time)
  return {
    id: header(message.headers, "ce_id") ?? "",
    type: header(message.headers, "ce_type") ?? "",
    key: message.key?.toString("utf8") ?? "",
    occurredAt: Number.isFinite(occurredAt) ? occurredAt : Number(message.timestamp),
    traceparent: header(message.headers, "traceparent"),
    body: message.value ?? new Uint8Array()
  }
}

// --- delivery marks -------------------------------------------------------------
// The committed offset's metadata says how often messages above it were already handed out:
// `troupe1:<end>x<count>,...` — offsets below `end` (and at or above the previous end) were
// delivered `count` times by members that did not commit past them.

type Segment = readonly [end: number, count: number]

const marksPrefix = "troupe1:"
const maxSegments = 64

export const parseMarks = (metadata: string | null | undefined): ReadonlyArray<Segment> => {
  if (!metadata?.startsWith(marksPrefix)) return []
  const out: Array<Segment> = []
  for (const part of metadata.slice(marksPrefix.length).split(",")) {
    const [end, count] = part.split("x").map(Number)
    if (Number.isSafeInteger(end) && Number.isSafeInteger(count) && count! > 0) out.push([end!, count!])
  }
  return out
}

/** How often `offset` was delivered before, according to `prior`. */
export const priorDeliveries = (prior: ReadonlyArray<Segment>, offset: number): number => {
  if (prior.length === 0 || offset >= prior[prior.length - 1]![0]) return 0
  for (const [end, count] of prior) if (offset < end) return count
  return 0
}

/** The marks after this member delivered every offset below `marked`, with everything below `committed` done. */
export const encodeMarks = (prior: ReadonlyArray<Segment>, committed: number, marked: number): string => {
  const out: Array<[number, number]> = []
  const push = (end: number, count: number) => {
    if (end <= committed) return
    const last = out[out.length - 1]
    if (last && last[1] === count) last[0] = end
    else out.push([end, count])
  }
  let start = Number.NEGATIVE_INFINITY
  for (const [end, count] of prior) {
    if (start < marked && marked < end) {
      push(marked, count + 1)
      push(end, count)
    } else push(end, end <= marked ? count + 1 : count)
    start = end
  }
  if (marked > start) push(marked, 1)
  while (out.length > maxSegments) {
    const [a, b] = out.splice(0, 2) as [[number, number], [number, number]]
    out.unshift([b[0], Math.max(a[1], b[1])])
  }
  return marksPrefix + out.map(([end, count]) => `${end}x${count}`).join(",")
}

// --- consumer group member ------------------------------------------------------

interface Entry {
  readonly offset: number
  acked: boolean
}

/** A delivery that knows where it was read (for the dead-letter headers). */
interface KafkaDelivery extends Delivery {
  readonly partition: number
  readonly offset: string
}

const isKafkaDelivery = (delivery: Delivery): delivery is KafkaDelivery => "partition" in delivery

interface PartitionState {
  readonly partition: number
  readonly generation: number
  readonly prior: ReadonlyArray<Segment>
  /** Next offset to commit: everything below is acknowledged. */
  committed: number
  /** Offsets below were handed out by this member (recorded in the metadata). */
  marked: number
  /** Next offset expected from the fetcher. */
  next: number
  readonly entries: Array<Entry>
  head: number
  outstanding: number
  highWatermark: number
  sentCommitted: number
  sentMarked: number
}

interface GroupMetrics {
  readonly lag: (partition: number, value: number | undefined) => void
  readonly assigned: (count: number) => void
  readonly rebalanced: () => void
  readonly commitFailed: () => void
  readonly deadLettered: () => void
}

interface GroupOptions {
  readonly kafka: Kafka
  readonly subscription: Subscription
  readonly deliveries: Queue.Queue<Delivery, TransportError>
  readonly fromBeginning: boolean
  readonly sessionTimeout: number
  readonly heartbeatInterval: number
  readonly fetchMaxWait: number
  readonly commitInterval: number
  readonly deliveryLimit: number
  readonly metrics: GroupMetrics
  readonly deadLetter: (raw: Message.Raw, headers: Record<string, string>) => Promise<void>
  readonly warn: (message: string, annotations: Record<string, unknown>) => void
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const groupProtocolErrors = new Set([
  "INVALID_REQUEST",
  "UNKNOWN_MEMBER_ID",
  "ILLEGAL_GENERATION",
  "REBALANCE_IN_PROGRESS",
  "NOT_COORDINATOR_FOR_GROUP",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "GROUP_LOAD_IN_PROGRESS",
  "MEMBER_ID_REQUIRED"
])

/** Whether an error (or one of its causes) is a consumer-group protocol error that a rejoin resolves. */
const isGroupProtocolError = (error: unknown): boolean => {
  for (let e = error as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e)
    if (e.type !== undefined && groupProtocolErrors.has(e.type)) return true
  return false
}

const isRebalancing = (error: unknown): boolean => {
  const type = (error as { type?: string } | null)?.type
  return type === "REBALANCE_IN_PROGRESS" || type === "NOT_COORDINATOR_FOR_GROUP" || type === "ILLEGAL_GENERATION"
}

// One consumer group member, written against kafkajs's callbacks (the library edge): it turns
// fetched batches into runtime deliveries and acknowledgements into offset commits.
const groupMember = (options: GroupOptions) => {
  const { subscription, deliveries } = options
  const topic = subscription.address.name
  const group = subscription.name
  // A topic subscription receives only its message types; a work queue receives everything.
  const types = subscription.address.kind === "topic" ? new Set(subscription.types) : undefined
  const prefetch = Math.max(1, subscription.prefetch)
  const tick = Math.min(1000, Math.max(50, options.heartbeatInterval / 2))
  const drainTimeout = options.sessionTimeout / 2

  const newConsumer = (): KafkaConsumer =>
    options.kafka.consumer({
      groupId: group,
      sessionTimeout: options.sessionTimeout,
      // How long the coordinator waits for members to rejoin a rebalance. A member here drains for
      // at most sessionTimeout / 2 before it rejoins, so the session timeout is enough; a longer one
      // only delays the group when a member was killed (measured: a replacement for a SIGKILLed
      // member waited the full 60 s of kafkajs's default in half the chaos rounds, instead of 30 s).
      rebalanceTimeout: options.sessionTimeout,
      heartbeatInterval: options.heartbeatInterval,
      maxWaitTimeInMs: Math.min(options.fetchMaxWait, options.heartbeatInterval),
      allowAutoTopicCreation: true,
      // kafkajs does not restart a crashed member itself: see `watch`.
      retry: { restartOnFailure: async () => false }
    })
  let consumer = newConsumer()
  const admin: Admin = options.kafka.admin()

  let generation = 0
  let permits = prefetch
  let closing = false
  let disconnected = false
  let revoked: unknown = undefined
  let revokedAt = 0
  let states = new Map<number, PartitionState>()
  let committedOffsets: { readonly generation: number; readonly offsets: Promise<Map<number, OffsetInfo>> } | undefined
  let assignedPartitions: ReadonlyArray<number> = []
  const waiters = new Set<() => void>()

  const wake = () => {
    for (const waiter of waiters) waiter()
    waiters.clear()
  }
  const nap = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, tick)
      function done() {
        clearTimeout(timer)
        waiters.delete(done)
        resolve()
      }
      waiters.add(done)
    })

  // --- commits: one in flight, at most one queued, each sending the latest state. A commit goes
  // out on the next turn of the event loop and callers until then join it, so the partitions of
  // one fetch, whose batches start together, record their delivery marks in one request.
  let inFlight: Promise<void> | undefined
  let sent = false // whether `inFlight` has left: later callers queue behind it
  let queued: Promise<void> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const commitNow = async (): Promise<void> => {
    if (disconnected) return
    const changes: Array<readonly [PartitionState, number, number]> = []
    for (const state of states.values()) {
      if (state.generation !== generation || state.committed < 0) continue
      if (state.committed !== state.sentCommitted || state.marked !== state.sentMarked)
        changes.push([state, state.committed, state.marked])
    }
    if (changes.length === 0) return
    try {
      await consumer.commitOffsets(
        changes.map(([state, committed, marked]) => ({
          topic,
          partition: state.partition,
          offset: String(committed),
          metadata: encodeMarks(state.prior, committed, marked)
        }))
      )
      for (const [state, committed, marked] of changes) {
        state.sentCommitted = Math.max(state.sentCommitted, committed)
        state.sentMarked = Math.max(state.sentMarked, marked)
        if (state.highWatermark >= 0)
          options.metrics.lag(state.partition, Math.max(0, state.highWatermark - state.sentCommitted))
      }
    } catch (error) {
      options.metrics.commitFailed()
      if (!isRebalancing(error) && !closing)
        options.warn("kafka offset commit failed; uncommitted messages will be redelivered", {
          group,
          topic,
          error: error instanceof Error ? error.message : String(error)
        })
    }
  }
  const commit = (): Promise<void> => {
    if (inFlight && !sent) return inFlight
    if (queued) return queued
    if (inFlight) {
      queued = inFlight.then(() => {
        queued = undefined
        return commit()
      })
      return queued
    }
    sent = false
    inFlight = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        sent = true
        return commitNow()
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }
  const scheduleCommit = () => {
    timer ??= setTimeout(() => {
      timer = undefined
      void commit()
    }, options.commitInterval)
  }

  const advance = (state: PartitionState) => {
    while (state.head < state.entries.length && state.entries[state.head]!.acked) {
      state.committed = state.entries[state.head]!.offset + 1
      state.head++
    }
    if (state.head > 1024 && state.head * 2 > state.entries.length) {
      state.entries.splice(0, state.head)
      state.head = 0
    }
  }

  const track = (state: PartitionState, offset: number, acked: boolean): Entry => {
    // Nothing outstanding below: everything up to here is done (offsets may have gaps).
    if (state.head === state.entries.length) state.committed = Math.max(state.committed, offset)
    const entry: Entry = { offset, acked }
    state.entries.push(entry)
    state.next = offset + 1
    if (acked) advance(state)
    else state.outstanding++
    return entry
  }

  const ack = (state: PartitionState, entry: Entry) => {
    if (entry.acked) return
    entry.acked = true
    state.outstanding--
    permits++
    // Acknowledgements of an earlier generation only free their permit: those messages are
    // being redelivered from the group's committed offsets.
    if (state.generation === generation && !disconnected) {
      advance(state)
      scheduleCommit()
    }
    wake()
  }

  interface OffsetInfo {
    readonly offset: number
    readonly metadata: string | null
  }
  const fetchCommitted = (): Promise<Map<number, OffsetInfo>> => {
    if (committedOffsets?.generation !== generation) {
      const offsets = admin
        .fetchOffsets({ groupId: group, topics: [topic] })
        .then(
          (topics) =>
            new Map(
              (topics.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [
                p.partition,
                { offset: Number(p.offset), metadata: p.metadata }
              ])
            )
        )
      committedOffsets = { generation, offsets }
      // A failed lookup is retried by the next batch.
      offsets.catch(() => {
        if (committedOffsets?.offsets === offsets) committedOffsets = undefined
      })
    }
    return committedOffsets.offsets
  }

  const stateOf = async (partition: number, firstOffset: number): Promise<PartitionState | undefined> => {
    const existing = states.get(partition)
    if (existing) return existing
    const gen = generation
    const info = (await fetchCommitted()).get(partition)
    if (gen !== generation) return undefined
    const again = states.get(partition)
    if (again) return again
    const committed = info !== undefined && info.offset >= 0 ? info.offset : firstOffset
    const state: PartitionState = {
      partition,
      generation: gen,
      prior: parseMarks(info?.metadata),
      committed,
      marked: committed,
      next: committed,
      entries: [],
      head: 0,
      outstanding: 0,
      highWatermark: -1,
      sentCommitted: info !== undefined && info.offset >= 0 ? info.offset : -1,
      sentMarked: committed
    }
    states.set(partition, state)
    return state
  }

  const stopped = (gen: number) => closing || gen !== generation || revoked !== undefined

  const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    const gen = generation
    const messages = batch.messages
    if (messages.length === 0) return
    const state = await stateOf(batch.partition, Number(messages[0]!.offset))
    if (state === undefined) return
    state.highWatermark = Number(batch.highWatermark)
    if (state.sentCommitted >= 0)
      options.metrics.lag(state.partition, Math.max(0, state.highWatermark - state.sentCommitted))

    let lastBeat = Date.now()
    const beat = async () => {
      if (Date.now() - lastBeat < tick) return
      lastBeat = Date.now()
      try {
        await heartbeat()
      } catch (error) {
        if (!isRebalancing(error)) throw error
        if (revoked === undefined) {
          revoked = error
          revokedAt = Date.now()
          wake()
        }
      }
    }

    for (let i = 0; i < messages.length; i++) {
      if (stopped(gen) || !isRunning() || isStale()) break
      const message = messages[i]!
      const offset = Number(message.offset)
      if (offset < state.next) continue // already handed out in this generation
      const raw = toRaw(message)
      if (types !== undefined && !types.has(raw.type)) {
        track(state, offset, true)
        resolveOffset(message.offset)
        continue
      }
      const deliveryCount = 1 + priorDeliveries(state.prior, offset)
      if (deliveryCount > options.deliveryLimit) {
        await options.deadLetter(raw, {
          "x-error": `delivered ${deliveryCount - 1} times without being acknowledged (the consumer crashed or timed out each time)`,
          "x-error-reason": "delivery_limit",
          "x-attempts": String(deliveryCount - 1),
          "x-original-topic": topic,
          "x-original-partition": String(batch.partition),
          "x-original-offset": message.offset,
          "x-consumer-group": group
        })
        options.metrics.deadLettered()
        track(state, offset, true)
        resolveOffset(message.offset)
        continue
      }
      if (offset >= state.marked) {
        // Record how far this member hands out before it does, so a member taking over after a
        // crash knows these messages are redeliveries.
        state.marked = Number(messages[Math.min(i + prefetch, messages.length) - 1]!.offset) + 1
        await commit()
        if (state.sentMarked < state.marked) {
          if (stopped(gen)) break
          throw new Error(`could not record delivery progress of ${topic}[${batch.partition}] for group ${group}`)
        }
      }
      while (permits === 0 && !stopped(gen) && isRunning()) {
        await nap()
        await beat()
      }
      if (stopped(gen) || !isRunning()) break
      permits--
      const entry = track(state, offset, false)
      const delivery: KafkaDelivery = {
        message: raw,
        deliveryCount,
        ack: Effect.sync(() => ack(state, entry)),
        partition: batch.partition,
        offset: message.offset
      }
      Queue.offerUnsafe(deliveries, delivery)
      resolveOffset(message.offset)
    }
    // Finish the batch before fetching again or rebalancing: every delivery acknowledged and
    // committed (a rebalance waits at most half a session timeout for it).
    while (
      state.outstanding > 0 &&
      !closing &&
      gen === generation &&
      isRunning() &&
      !(revoked !== undefined && Date.now() - revokedAt > drainTimeout)
    ) {
      await nap()
      await beat()
    }
    await commit()
    if (revoked !== undefined) throw revoked
  }

  // Abandons the current generation: its deliveries' acks only free their permits.
  const abandon = () => {
    generation++
    revoked = undefined
    states = new Map()
    wake()
  }

  const failDeliveries = (error: unknown) => {
    closing = true
    wake()
    Queue.failCauseUnsafe(
      deliveries,
      Cause.fail(fail("consume")(new Error(`consumer group ${group} of ${topic} failed: ${describeError(error)}`)))
    )
  }

  // A member that crashed on a group-protocol error (a stale generation, an unknown member, a
  // request the coordinator refused mid-rebalance) rejoins as a new member, at most 5 times a
  // minute; any other crash (the broker is gone) fails `deliveries`, so the Consumer's
  // supervisor subscribes again with backoff.
  let rejoins: Array<number> = []
  const watch = (member: KafkaConsumer) => {
    member.on(member.events.GROUP_JOIN, (event) => {
      if (member !== consumer) return
      abandon()
      const mine = event.payload.memberAssignment[topic] ?? []
      for (const partition of assignedPartitions)
        if (!mine.includes(partition)) options.metrics.lag(partition, undefined)
      assignedPartitions = mine
      options.metrics.assigned(mine.length)
      options.metrics.rebalanced()
    })
    member.on(member.events.CRASH, (event) => {
      if (member !== consumer || closing) return
      const error = event.payload.error
      const now = Date.now()
      rejoins = rejoins.filter((t) => now - t < 60_000)
      if (!isGroupProtocolError(error) || rejoins.length >= 5) return failDeliveries(error)
      rejoins.push(now)
      abandon()
      options.metrics.assigned(0)
      options.warn("kafka group member crashed on a group protocol error; rejoining as a new member", {
        group,
        topic,
        error: describeError(error)
      })
      consumer = newConsumer()
      run(consumer).catch(failDeliveries)
    })
  }

  const run = async (member: KafkaConsumer) => {
    watch(member)
    await member.connect()
    await member.subscribe({ topic, fromBeginning: options.fromBeginning })
    // Resolves once the member has joined the group (or crashed: see `watch`).
    await member.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every assigned partition's batch is worked on at once (lanes run keys concurrently).
      partitionsConsumedConcurrently: 64,
      eachBatch
    })
  }

  const start = async () => {
    try {
      await admin.connect()
      await run(consumer)
    } catch (error) {
      await stop()
      throw error
    }
  }

  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= shutdown())

  const bounded = (promise: Promise<unknown>, ms: number) =>
    Promise.race([promise.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, ms).unref?.())])

  const shutdown = async () => {
    closing = true
    wake()
    if (timer !== undefined) clearTimeout(timer)
    // Acknowledged work is committed before the member leaves; the rest goes to another member.
    await bounded(commit(), 5_000)
    disconnected = true
    await bounded(consumer.disconnect(), options.sessionTimeout)
    await bounded(admin.disconnect(), 5_000)
    for (const partition of assignedPartitions) options.metrics.lag(partition, undefined)
    options.metrics.assigned(0)
  }

  return { start, stop }
}

// --- the transport ------------------------------------------------------------------

interface Connection {
  readonly producer: Producer
  readonly admin: Admin
  /** Whether kafkajs can reach the controller: needed for topic creation and idempotent producers. */
  readonly controller: boolean
}

export const make = (options: Options) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics
    const context = yield* Effect.context<never>()
    const runFork = Effect.runForkWith(context)
    const runPromise = Effect.runPromiseWith(context)
    const clientId = options.clientId ?? "troupe"
    const partitions = options.partitions ?? 6
    const replicationFactor = options.replicationFactor ?? -1
    const sessionTimeout = millis(options.sessionTimeout, "30 seconds")
    const heartbeatInterval = millis(options.heartbeatInterval, "3 seconds")
    const fetchMaxWait = millis(options.fetchMaxWait, "500 millis")
    const requestTimeout = millis(options.requestTimeout, "30 seconds")
    const connectTimeout = millis(options.connectTimeout, "5 seconds")
    const startTimeout = millis(options.startTimeout, "10 seconds")
    const probeInterval = millis(options.probeInterval, "10 seconds")
    const commitInterval = millis(options.commitInterval, "200 millis")
    const deliveryLimit = options.deliveryLimit ?? 20

    const lag = metrics.gauge(
      "troupe_kafka_consumer_lag",
      "Messages of a partition not yet committed by the consumer group (high watermark - committed offset)",
      ["group", "topic", "partition"]
    )
    const assigned = metrics.gauge(
      "troupe_kafka_partitions_assigned",
      "Partitions currently assigned to this process's member of a consumer group",
      ["group", "topic"]
    )
    const rebalances = metrics.counter(
      "troupe_kafka_rebalances_total",
      "Consumer group joins (the first one and one per rebalance)",
      ["group"]
    )
    const commitFailures = metrics.counter(
      "troupe_kafka_commit_failures_total",
      "Offset commits that failed (their messages are redelivered)",
      ["group"]
    )
    const produceFailures = metrics.counter(
      "troupe_kafka_produce_failures_total",
      "Produce requests that failed (the caller retries: the outbox keeps the messages)",
      ["topic"]
    )
    const deadLettered = metrics.counter(
      "troupe_messages_dead_lettered_total",
      "Messages moved to a dead-letter queue",
      ["consumer", "reason"]
    )

    const logCreator = () => (entry: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...extra } = entry.log
      const text = `kafkajs: ${message}`
      // Connection-level errors are answers the caller handles (e.g. "rebalancing" on a
      // heartbeat), or late answers to requests that already timed out.
      const log =
        entry.namespace === "Connection" || entry.namespace === "RequestQueue"
          ? Effect.logDebug(text)
          : entry.level === logLevel.ERROR
            ? Effect.logError(text)
            : entry.level === logLevel.WARN
              ? Effect.logWarning(text)
              : Effect.logDebug(text)
      runFork(log.pipe(Effect.annotateLogs({ component: `kafkajs.${entry.namespace}`, ...extra })))
    }
    const tls = options.tls
    const kafka = new Kafka({
      clientId,
      brokers: [...options.brokers],
      requestTimeout,
      connectionTimeout: Math.min(requestTimeout, 10_000),
      logLevel: logLevel.WARN,
      logCreator,
      ...(tls === undefined || tls === false
        ? {}
        : {
            ssl:
              tls === true
                ? true
                : {
                    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
                    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
                    ...(tls.key !== undefined ? { key: Redacted.value(tls.key) } : {})
                  }
          }),
      ...(options.sasl
        ? {
            sasl: {
              mechanism: options.sasl.mechanism,
              username: options.sasl.username,
              password: Redacted.value(options.sasl.password)
            } as SASLOptions
          }
        : {})
    })

    const current = yield* Ref.make<Connection | undefined>(undefined)
    const connected = yield* Ref.make(yield* Deferred.make<Connection>())
    let explainedController = false
    let lastConnectError = "timed out"

    // The connection actor: connect, publish the connection, probe the cluster until it fails (→ restart).
    yield* Actor.supervise(
      "kafka",
      (ready) =>
        Effect.gen(function* () {
          // Finalizers first, then interruptible connects: kafkajs retries a connect for seconds,
          // and shutting down must not wait for that.
          const admin = kafka.admin()
          yield* Effect.addFinalizer(() => Effect.promise(() => admin.disconnect().catch(() => undefined)))
          yield* Effect.tryPromise({ try: () => admin.connect(), catch: fail("connect") })
          const cluster = yield* Effect.tryPromise({ try: () => admin.describeCluster(), catch: fail("connect") })
          // kafkajs sends topic creation and producer-id requests to the controller; a broker that
          // does not report a reachable one (e.g. librdkafka's mock cluster) cannot serve them.
          const controller = cluster.brokers.some((b) => b.nodeId === cluster.controller)
          if (!controller && !explainedController) {
            explainedController = true
            yield* Effect.logWarning(
              "kafka: the cluster reports no reachable controller; topics are left to broker auto-creation and the producer is not idempotent (acks=-1 still applies)"
            ).pipe(Effect.annotateLogs({ controller: cluster.controller, clusterId: cluster.clusterId }))
          }
          const producer = kafka.producer({
            idempotent: controller && options.idempotent !== false,
            // One request in flight per broker keeps per-key order even when a send is retried.
            maxInFlightRequests: 1,
            allowAutoTopicCreation: true,
            createPartitioner: Partitioners.DefaultPartitioner
          })
          yield* Effect.addFinalizer(() => Effect.promise(() => producer.disconnect().catch(() => undefined)))
          yield* Effect.tryPromise({ try: () => producer.connect(), catch: fail("connect producer") })
          const connection: Connection = { producer, admin, controller }
          yield* Ref.set(current, connection)
          yield* Effect.flatMap(Ref.get(connected), (d) => Deferred.succeed(d, connection))
          yield* ready
          while (true) {
            yield* Effect.sleep(Duration.millis(probeInterval))
            yield* Effect.tryPromise({ try: () => admin.describeCluster(), catch: fail("probe") }).pipe(
              Effect.timeoutOrElse({
                duration: Duration.millis(requestTimeout),
                orElse: () => Effect.fail(fail("probe")(new Error("the cluster did not answer")))
              })
            )
          }
        }).pipe(
          Effect.tapError((error) => Effect.sync(() => (lastConnectError = error.message))),
          Effect.onExit(() =>
            Effect.gen(function* () {
              if ((yield* Ref.get(current)) === undefined) return
              yield* Ref.set(current, undefined)
              yield* Ref.set(connected, yield* Deferred.make<Connection>())
            })
          ),
          Effect.scoped
        ),
      { minBackoff: "200 millis", maxBackoff: "10 seconds" }
    )

    const connectionWithin = (ms: number): Effect.Effect<Connection, TransportError> =>
      Effect.flatMap(Ref.get(connected), (d) =>
        Deferred.await(d).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(ms),
            orElse: () => Effect.fail(fail("connect")(new Error("not connected to the Kafka cluster")))
          })
        )
      )
    const connection = connectionWithin(connectTimeout)

    // Fail fast at start: unreachable brokers are a start-up error naming them, not a service
    // that looks healthy; later outages reconnect on their own.
    yield* connectionWithin(startTimeout).pipe(
      Effect.mapError(() =>
        fail("connect")(new Error(`cannot connect to KAFKA_BROKERS ${options.brokers.join(",")}: ${lastConnectError}`))
      )
    )

    // Topic provisioning: once per topic and process; never fails (the broker may auto-create).
    const provisioned = new Set<string>()
    let explainedProvisioning = false
    const ensureTopics = (topics: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const missing = topics.filter((t) => !provisioned.has(t))
        if (missing.length === 0) return
        const { admin, controller } = yield* connection
        if (controller) {
          yield* Effect.tryPromise({
            try: () =>
              admin.createTopics({
                topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
                waitForLeaders: true,
                timeout: requestTimeout
              }),
            catch: fail("create topics")
          }).pipe(
            Effect.catch((error) =>
              explainedProvisioning
                ? Effect.void
                : Effect.andThen(
                    Effect.sync(() => (explainedProvisioning = true)),
                    Effect.logWarning("kafka: could not create topics; relying on the broker to auto-create them").pipe(
                      Effect.annotateLogs({ topics: missing.join(","), error: error.message })
                    )
                  )
            )
          )
        }
        for (const topic of missing) provisioned.add(topic)
      })

    const send = (topic: string, records: Array<KafkaRecord>) =>
      Effect.gen(function* () {
        const { producer } = yield* connection
        yield* Effect.tryPromise({
          try: () => producer.send({ topic, acks: -1, messages: records }),
          catch: fail(`publish to ${topic}`)
        }).pipe(Effect.tapError(() => Effect.sync(() => produceFailures.inc({ topic }))))
      })

    const publish = (address: Address, messages: ReadonlyArray<Message.Raw>): Effect.Effect<void, TransportError> =>
      messages.length === 0
        ? Effect.void
        : Effect.andThen(
            ensureTopics([address.name]),
            send(
              address.name,
              messages.map((raw) => toRecord(clientId, raw))
            )
          )

    const deadLetterRecord = (topic: string, raw: Message.Raw, headers: Record<string, string>) =>
      Effect.andThen(
        ensureTopics([deadLetterTopic(topic)]),
        send(deadLetterTopic(topic), [toRecord(clientId, raw, headers)])
      )

    const consume = (subscription: Subscription) =>
      Effect.gen(function* () {
        const topic = subscription.address.name
        const group = subscription.name
        yield* ensureTopics([topic, deadLetterTopic(topic)])
        const deliveries = yield* Queue.unbounded<Delivery, TransportError>()
        const member = groupMember({
          kafka,
          subscription,
          deliveries,
          fromBeginning: options.autoOffsetReset !== "latest",
          sessionTimeout,
          heartbeatInterval,
          fetchMaxWait,
          commitInterval,
          deliveryLimit,
          metrics: {
            lag: (partition, value) => {
              const labels = { group, topic, partition: String(partition) }
              if (value === undefined) lag.remove(labels)
              else lag.set(labels, value)
            },
            assigned: (count) => assigned.set({ group, topic }, count),
            rebalanced: () => rebalances.inc({ group }),
            commitFailed: () => commitFailures.inc({ group }),
            deadLettered: () => deadLettered.inc({ consumer: group, reason: "delivery_limit" })
          },
          deadLetter: (raw, headers) => runPromise(deadLetterRecord(topic, raw, headers)),
          warn: (message, annotations) => runFork(Effect.logWarning(message).pipe(Effect.annotateLogs(annotations)))
        })
        yield* Effect.addFinalizer(() => Effect.promise(() => member.stop()))
        yield* Effect.tryPromise({ try: () => member.start(), catch: fail(`consume ${topic} as group ${group}`) })
        return deliveries as Queue.Dequeue<Delivery, TransportError>
      })

    const deadLetter = (
      subscription: Subscription,
      delivery: Delivery,
      deadLetter: { readonly reason: string; readonly error: string; readonly attempts: number }
    ) =>
      deadLetterRecord(subscription.address.name, delivery.message, {
        "x-error": deadLetter.error.slice(0, 4000),
        "x-error-reason": deadLetter.reason,
        "x-attempts": String(deadLetter.attempts),
        "x-original-topic": subscription.address.name,
        "x-consumer-group": subscription.name,
        ...(isKafkaDelivery(delivery)
          ? { "x-original-partition": String(delivery.partition), "x-original-offset": delivery.offset }
          : {})
      })

    return Transport.of({
      kind: "kafka",
      publish,
      consume,
      deadLetter,
      check: Effect.flatMap(Ref.get(current), (c) =>
        c === undefined ? Effect.fail(fail("check")(new Error("not connected"))) : Effect.void
      )
    })
  })

// --- configuration -----------------------------------------------------------------

const brokerList = Schema.String.check(
  Schema.isPattern(/^\s*[^\s,]+:\d+\s*(,\s*[^\s,]+:\d+\s*)*$/, {
    message: "expected comma-separated host:port pairs"
  })
)

const saslConfig = Config.option(
  Config.Literals(["plain", "scram-sha-256", "scram-sha-512"], "KAFKA_SASL_MECHANISM")
).pipe(
  Config.flatMap(
    Option.match({
      onNone: () => Config.succeed(undefined),
      onSome: (mechanism) =>
        Config.all({
          mechanism: Config.succeed(mechanism),
          username: Config.String("KAFKA_SASL_USERNAME"),
          password: Config.Redacted("KAFKA_SASL_PASSWORD")
        })
    })
  )
)

const tlsConfig = Config.all({
  enabled: Config.Boolean("KAFKA_TLS").pipe(Config.withDefault(false)),
  ca: Config.option(Config.String("KAFKA_TLS_CA")),
  cert: Config.option(Config.String("KAFKA_TLS_CERT")),
  key: Config.option(Config.Redacted("KAFKA_TLS_KEY"))
}).pipe(
  Config.map(({ enabled, ca, cert, key }): Options["tls"] =>
    Option.isNone(ca) && Option.isNone(cert) && Option.isNone(key)
      ? enabled
      : { ca: Option.getOrUndefined(ca), cert: Option.getOrUndefined(cert), key: Option.getOrUndefined(key) }
  )
)

/**
 * Settings read from the environment: `KAFKA_BROKERS` (required), `KAFKA_CLIENT_ID`, SASL
 * (`KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, secret `KAFKA_SASL_PASSWORD`), TLS (`KAFKA_TLS`,
 * `KAFKA_TLS_CA`, `KAFKA_TLS_CERT`, secret `KAFKA_TLS_KEY`), topic provisioning
 * (`KAFKA_TOPIC_PARTITIONS`, `KAFKA_TOPIC_REPLICATION_FACTOR`), `KAFKA_AUTO_OFFSET_RESET` and
 * `KAFKA_SESSION_TIMEOUT`.
 */
export const config: Config.Config<Options> = Config.all({
  brokers: Config.schema(brokerList, "KAFKA_BROKERS").pipe(
    Config.map((s) =>
      s
        .split(",")
        .map((b) => b.trim())
        .filter((b) => b !== "")
    )
  ),
  clientId: Config.String("KAFKA_CLIENT_ID").pipe(Config.withDefault("troupe")),
  sasl: saslConfig,
  tls: tlsConfig,
  partitions: Config.Int("KAFKA_TOPIC_PARTITIONS").pipe(Config.withDefault(6)),
  replicationFactor: Config.Int("KAFKA_TOPIC_REPLICATION_FACTOR").pipe(Config.withDefault(-1)),
  autoOffsetReset: Config.Literals(["earliest", "latest"], "KAFKA_AUTO_OFFSET_RESET").pipe(
    Config.withDefault("earliest" as const)
  ),
  sessionTimeout: Config.Duration("KAFKA_SESSION_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30)))
}).pipe(
  Config.map(({ sasl, tls, ...rest }): Options => ({
    ...rest,
    ...(sasl !== undefined ? { sasl } : {}),
    ...(tls !== undefined ? { tls } : {})
  }))
)

export const layer = (options: Options): Layer.Layer<Transport, TransportError, Health | Metrics> =>
  Layer.effect(Transport, make(options))

export const layerConfig: Layer.Layer<Transport, Config.ConfigError | TransportError, Health | Metrics> = Layer.effect(
  Transport,
  Effect.flatMap(config, make)
)
