/**
 * Fault injection under load. `Environment.start` runs Microbank in stack mode (a Node process
 * per service) on a private PostgreSQL cluster, a private RabbitMQ node and the kcat mock Kafka
 * broker, all owned by the harness so it may kill, restart and freeze them. `round` drives the
 * steady mix, injects one fault, lets the system recover on its own (the harness restarts a
 * killed process after a second, as a kubelet would — nothing else is done by hand), stops the
 * traffic, waits until everything acknowledged is visible downstream and checks the databases.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as KafkaMock from "../../microbank/src/KafkaMock.ts"
import * as Secrets from "../../microbank/src/Secrets.ts"
import * as Stack from "../../microbank/src/Stack.ts"
import * as Postgres from "./Postgres.ts"
import { onInterrupt, rss, sleep, tree, within } from "./Processes.ts"
import * as RabbitMq from "./RabbitMq.ts"
import * as Verify from "./Verify.ts"
import * as Workload from "./Workload.ts"

export interface Environment {
  readonly dir: string
  readonly pg: Postgres.Cluster
  readonly rabbit: RabbitMq.Node
  readonly kafka: KafkaMock.Broker
  readonly stack: Stack.Stack
  readonly query: Verify.Query
  readonly close: () => Promise<void>
  /** When the last round's fault ended (ms since epoch): the next round can keep its distance. */
  lastFaultEnd: number
}

export interface EnvironmentOptions {
  /** Keep the logs and data directory after `close` (they are printed). */
  readonly keep?: boolean
  readonly onLog?: (service: string, line: string) => void
  /** Extra environment for every service (e.g. `KAFKA_SESSION_TIMEOUT`). */
  readonly env?: Record<string, string>
}

/** Starts PostgreSQL, RabbitMQ, the Kafka mock broker and the stack; everything is torn down by `close` (also when starting fails). */
export const startEnvironment = async (options: EnvironmentOptions = {}): Promise<Environment> => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-chaos-"))
  const cleanups: Array<() => Promise<unknown>> = []
  const close = async () => {
    unregister()
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(`cleanup: ${e}`))
    if (options.keep) console.log(`chaos logs and data kept in ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
  const unregister = onInterrupt(() => close())
  try {
    const [pgPort, amqpPort, distPort] = [await Stack.freePort(), await Stack.freePort(), await Stack.freePort()]
    const pg = await Postgres.create({ name: "chaos-pg", port: pgPort })
    cleanups.push(() => pg.destroy())
    const rabbit = await RabbitMq.create({ port: amqpPort, distPort })
    cleanups.push(() => rabbit.destroy())
    await rabbit.start()
    const kafka = await KafkaMock.start()
    cleanups.push(async () => {
      // a frozen broker cannot exit on SIGTERM
      if (kafka.process.pid) process.kill(kafka.process.pid, "SIGCONT")
      await kafka.stop()
    })
    const secrets = Secrets.load(dir).secrets
    const stack = await Stack.start({
      databaseUrl: pg.url(),
      amqpUrl: rabbit.url,
      kafkaBrokers: kafka.bootstrap,
      secrets,
      logDir: join(dir, "logs"),
      ...(options.onLog ? { onLog: options.onLog } : {}),
      env: {
        PASSWORD_SCRYPT_LOG_N: "14",
        AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
        RATE_LIMIT_PER_MINUTE: "1000000",
        LOG_LEVEL: "warn",
        ...options.env
      }
    })
    cleanups.push(async () => {
      // no service may hang on a frozen dependency while stopping
      pg.resume()
      if (kafka.process.pid) process.kill(kafka.process.pid, "SIGCONT")
      await within(stack.stop(), 20_000)
      await Promise.all(stack.instances.map((i) => i.kill("SIGKILL")))
    })
    const query: Verify.Query = (service, sql) =>
      pg.query(sql, new URL(stack.databaseUrl(service as Stack.Service)).pathname.slice(1), 30_000)
    return { dir, pg, rabbit, kafka, stack, query, close, lastFaultEnd: 0 }
  } catch (error) {
    await close()
    throw error
  }
}

// ---------------------------------------------------------------------------------------------

export const faultNames = [
  "kill-notifications",
  "kill-ingest",
  "kill-purchases",
  "kill-accounts",
  "kill-gateway",
  "rabbitmq-restart",
  "rabbitmq-connections-dropped",
  "postgres-restart",
  "postgres-pause",
  "kafka-outage"
] as const
export type FaultName = (typeof faultNames)[number]

export const faultDescriptions: Record<FaultName, string> = {
  "kill-notifications": "SIGKILL of notifications (the `notifications` queue consumer) mid-batch, restarted after 1 s",
  "kill-ingest": "SIGKILL of ingest (API + batching worker) mid-batch, restarted after 1 s",
  "kill-purchases": "SIGKILL of purchases (API + Kafka consumer group member) mid-batch, restarted after 1 s",
  "kill-accounts": "SIGKILL of accounts (account entities, ledger, outbox relay) mid-transfer, restarted after 1 s",
  "kill-gateway": "SIGKILL of the gateway with requests in flight, restarted after 1 s",
  "rabbitmq-restart": "RabbitMQ node stopped (`rabbitmqctl stop`), started again after the outage",
  "rabbitmq-connections-dropped": "`rabbitmqctl close_all_connections`: every AMQP connection dropped at once",
  "postgres-restart": "PostgreSQL restarted (fast shutdown, start at once)",
  "postgres-pause": "PostgreSQL frozen (SIGSTOP of postmaster and backends) for the pause, then SIGCONT",
  "kafka-outage": "Kafka broker frozen (SIGSTOP of the kcat mock cluster) for the outage, then SIGCONT"
}

export interface Sample {
  readonly at: number
  /** Instances answering /health/ready with 200, of all. */
  readonly ready: number
  readonly instances: number
  /** Instances not ready, as `service:failing checks`. */
  readonly notReady: ReadonlyArray<string>
  /** Resident memory per service, bytes. */
  readonly rss: Record<string, number>
  readonly postgresRss: number
  readonly rabbitRss: number
}

/** Samples readiness and memory every `everyMs` until stopped. */
const monitor = (env: Environment, everyMs = 250) => {
  const samples: Array<Sample> = []
  let running = true
  const loop = (async () => {
    while (running) {
      const at = Date.now()
      // per instance: undefined when ready, else what is not (the failing checks, or no answer)
      const why = await Promise.all(
        env.stack.instances.map((i) =>
          fetch(`${i.url}/health/ready`, { signal: AbortSignal.timeout(1_000) }).then(
            async (r) => {
              if (r.status === 200) return undefined
              const body = (await r.json().catch(() => ({}))) as { checks?: Record<string, { ok: boolean }> }
              const failing = Object.entries(body.checks ?? {}).filter(([, c]) => !c.ok)
              return `${i.service}:${failing.map(([name]) => name).join(",") || r.status}`
            },
            () => `${i.service}:${Stack.exitOf(i) ?? "no answer"}`
          )
        )
      )
      const ready = why.map((w) => w === undefined)
      const memory: Record<string, number> = {}
      for (const i of env.stack.instances) {
        const pid = i.process.pid
        memory[i.service] = (memory[i.service] ?? 0) + (pid ? rss(tree(pid)) : 0)
      }
      samples.push({
        at,
        ready: ready.filter(Boolean).length,
        notReady: why.filter((w) => w !== undefined),
        instances: ready.length,
        rss: memory,
        postgresRss: env.pg.rss(),
        rabbitRss: env.rabbit.rss()
      })
      await sleep(Math.max(0, everyMs - (Date.now() - at)))
    }
  })()
  return {
    samples,
    stop: async () => {
      running = false
      await loop
    }
  }
}

export interface RoundOptions {
  readonly fault: FaultName
  /** Seconds of PostgreSQL freeze for `postgres-pause`. Default 20. */
  readonly pauseSeconds?: number
  /** Seconds RabbitMQ stays stopped (`rabbitmq-restart`) and Kafka frozen (`kafka-outage`). Default 5 and 10. */
  readonly outageSeconds?: number
  /**
   * Seconds that must have passed since the previous round's fault before this one starts, so the
   * rounds are independent: supervisors reset their restart backoff after 30 s up. Default 0.
   */
  readonly quietSeconds?: number
  /** Seconds of traffic before the fault (the baseline). Default 4. */
  readonly baselineSeconds?: number
  readonly clients?: Workload.Options["clients"]
  readonly customers?: number
  readonly log?: (line: string) => void
}

export interface RoundResult {
  readonly fault: FaultName
  readonly tag: string
  readonly operations: number
  readonly lost: number
  readonly duplicated: number
  readonly balancesReconciled: boolean
  /** Seconds from the end of the fault until every kind of operation worked normally again (see `recovery`, per kind). */
  readonly recoverySeconds: number
  /** Seconds from the fault's end to the first acknowledged operation that started after it. */
  readonly firstSuccessSeconds: number
  /** Seconds from the end of traffic until everything acknowledged was visible downstream. */
  readonly drainSeconds: number
  readonly baselineOpsPerSecond: number
  readonly faultSeconds: number
  readonly retries: number
  readonly appliedWithoutAnswer: number
  readonly unanswered: number
  readonly unexpected: ReadonlyArray<string>
  readonly deadLettered: number
  /** Highest resident memory of each service during the fault and recovery, against before it (MB). */
  readonly memory: Record<string, { readonly beforeMb: number; readonly peakMb: number }>
  readonly byKind: Verify.Verdict["byKind"]
  readonly problems: ReadonlyArray<string>
  readonly notes: ReadonlyArray<string>
  /** Per second from 3 s before the fault: acknowledged operations, and the fewest instances ready. */
  readonly timeline: ReadonlyArray<{ readonly second: number; readonly acks: number; readonly ready: string }>
}

/** The recovery threshold: throughput back at this share of the baseline. */
export const recoveredShare = 0.8
/** Width of the sliding window the throughput is measured over after the fault. */
export const windowMs = 2_000

/**
 * Recovery: the first operation acknowledged after the fault's end from which (a) every service
 * instance answers /health/ready and (b) the acknowledged-operation rate over the next
 * `windowMs` is at least `recoveredShare` of the baseline rate. Seconds from the fault's end to
 * that operation's acknowledgement; Infinity if there is none.
 */
export const recovery = (input: {
  readonly completions: ReadonlyArray<number>
  readonly samples: ReadonlyArray<Pick<Sample, "at" | "ready" | "instances">>
  readonly baselineRate: number
  readonly faultEnd: number
  readonly until: number
}): number => {
  const { completions, samples, baselineRate, faultEnd, until } = input
  // every sample from just before t to the end of the window says all ready
  const allReady = (t: number) => {
    const relevant = samples.filter((s) => s.at >= t - 300 && s.at <= t + windowMs)
    return relevant.length > 0 && relevant.every((s) => s.ready === s.instances)
  }
  const needed = recoveredShare * baselineRate * (windowMs / 1000)
  for (const t of completions) {
    if (t < faultEnd) continue
    if (t + windowMs > until) break
    const n = completions.filter((c) => c >= t && c < t + windowMs).length
    if (n >= needed && allReady(t)) return Math.round((t - faultEnd) / 100) / 10
  }
  return Number.POSITIVE_INFINITY
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024)

interface Injected {
  readonly start: number
  readonly end: number
  readonly notes: Array<string>
}

const restartAfterKill = async (env: Environment, service: Stack.Service, notes: Array<string>) => {
  const instance = env.stack.of(service)[0]!
  await instance.kill("SIGKILL")
  const killed = Date.now()
  await sleep(1_000)
  await instance.restart()
  notes.push(`${service} back ready ${((Date.now() - killed) / 1000).toFixed(1)} s after the kill`)
  return killed
}

/** Waits until `count()` has grown past `from` (some of a burst was handled downstream), at most `ms`. */
const whenProgress = async (count: () => Promise<number>, from: number, ms: number) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if ((await count().catch(() => from)) > from) return true
    await sleep(20)
  }
  return false
}

const countOf = (env: Environment, service: string, sql: string) => async () =>
  Number((await env.query(service, sql))[0]?.[0] ?? 0)

const inject = async (
  env: Environment,
  workload: Workload.Workload,
  options: RoundOptions,
  tag: string
): Promise<Injected> => {
  const notes: Array<string> = []
  const users = workload.customers.map((c) => `'${c.userId}'`).join(",")
  const killMidBatch = async (service: Stack.Service, kind: Workload.OpKind, count: () => Promise<number>) => {
    const before = await count()
    const burst = workload.burst(kind, 30)
    // kill once the consumer has stored part of the burst: the rest is in its hands or queued
    const progressed = await whenProgress(count, before, 5_000)
    const start = await restartAfterKill(env, service, notes)
    notes.unshift(progressed ? "killed while storing a burst" : "killed (no downstream progress seen before)")
    void burst
    return { start, end: start, notes }
  }
  switch (options.fault) {
    case "kill-notifications":
      return killMidBatch(
        "notifications",
        "deposit",
        countOf(env, "notifications", `select count(*) from notifications where user_id in (${users})`)
      )
    case "kill-ingest":
      return killMidBatch(
        "ingest",
        "ingest",
        countOf(env, "ingest", `select count(*) from records where type = '${tag}'`)
      )
    case "kill-purchases":
      return killMidBatch(
        "purchases",
        "purchase",
        countOf(env, "purchases", `select count(*) from purchases where userid in (${users})`)
      )
    case "kill-accounts": {
      const burst = workload.burst("transfer", 12)
      await sleep(30) // the transfers are inside accounts now
      const start = await restartAfterKill(env, "accounts", notes)
      void burst
      return { start, end: start, notes }
    }
    case "kill-gateway": {
      const burst = workload.burst("transfer", 8)
      await sleep(30)
      const start = await restartAfterKill(env, "gateway", notes)
      void burst
      return { start, end: start, notes }
    }
    case "rabbitmq-restart": {
      const start = Date.now()
      await env.rabbit.stop()
      notes.push(`stopped in ${((Date.now() - start) / 1000).toFixed(1)} s`)
      await sleep((options.outageSeconds ?? 5) * 1000)
      const starting = Date.now()
      await env.rabbit.start()
      notes.push(`started in ${((Date.now() - starting) / 1000).toFixed(1)} s`)
      return { start, end: Date.now(), notes }
    }
    case "rabbitmq-connections-dropped": {
      const start = Date.now()
      await env.rabbit.closeConnections()
      return { start, end: start, notes }
    }
    case "postgres-restart": {
      const start = Date.now()
      await env.pg.stop("fast")
      await env.pg.start()
      notes.push(`down ${((Date.now() - start) / 1000).toFixed(1)} s`)
      return { start, end: Date.now(), notes }
    }
    case "postgres-pause": {
      const start = Date.now()
      env.pg.pause()
      // meanwhile the broker holds what the consumers cannot store: sample the queues
      let deepest = 0
      const until = start + (options.pauseSeconds ?? 20) * 1000
      while (Date.now() < until - 1_500) {
        const queues = await env.rabbit.queues().catch(() => [])
        deepest = Math.max(deepest, ...queues.filter((q) => !q.name.endsWith(".dlq")).map((q) => q.messages))
        await sleep(Math.min(2_000, Math.max(0, until - Date.now() - 1_500)))
      }
      await sleep(Math.max(0, until - Date.now()))
      env.pg.resume()
      notes.push(`RabbitMQ queues peaked at ${deepest} messages`)
      return { start, end: Date.now(), notes }
    }
    case "kafka-outage": {
      const pid = env.kafka.process.pid!
      const start = Date.now()
      process.kill(pid, "SIGSTOP")
      await sleep((options.outageSeconds ?? 10) * 1000)
      process.kill(pid, "SIGCONT")
      return { start, end: Date.now(), notes }
    }
  }
}

let roundCounter = 0

/** One round: traffic, one fault, recovery, settling, checks. */
export const round = async (env: Environment, options: RoundOptions): Promise<RoundResult> => {
  const log = options.log ?? (() => undefined)
  const tag = `r${Date.now().toString(36)}${(roundCounter++).toString(36)}`
  const baselineMs = (options.baselineSeconds ?? 4) * 1000
  const quiet = env.lastFaultEnd + (options.quietSeconds ?? 0) * 1000 - baselineMs - Date.now()
  if (quiet > 0) await sleep(quiet)
  // every instance ready before a round: the previous round's fault must not leak into this one
  const readyDeadline = Date.now() + 60_000
  for (const i of env.stack.instances) {
    while (
      !(await fetch(`${i.url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false
      ))
    ) {
      // A process that died is named as such (its log says why), not as one that is slow to start.
      const exited = Stack.exitOf(i)
      if (exited !== undefined) throw new Error(`${i.service} ${exited} before the round`)
      if (Date.now() > readyDeadline) throw new Error(`${i.service} is not ready before the round`)
      await sleep(200)
    }
  }
  const workload = await Workload.start({
    gateway: env.stack.gatewayUrl,
    tag,
    customers: options.customers ?? 4,
    ...(options.clients ? { clients: options.clients } : {})
  })
  const watch = monitor(env)
  const trafficStart = Date.now()
  await sleep(baselineMs)
  const baselineFrom = trafficStart + 1_000 // the first second warms up connections
  // the baseline ends where the injection begins (a kill round first sends a burst)
  const baselineTo = Date.now()
  const injected = await inject(env, workload, options, tag)
  env.lastFaultEnd = injected.end
  const rateOf = (kind: Workload.OpKind) =>
    workload.completions[kind].filter((c) => c >= baselineFrom && c < baselineTo).length /
    ((baselineTo - baselineFrom) / 1000)
  const baselineRates = Object.fromEntries(Workload.opKinds.map((k) => [k, rateOf(k)])) as Record<
    Workload.OpKind,
    number
  >
  const baselineRate = Workload.opKinds.reduce((sum, k) => sum + baselineRates[k], 0)
  // every kind of operation must be back: the slowest one decides
  const recoveryNow = (until: number) =>
    Math.max(
      ...Workload.opKinds.map((kind) =>
        recovery({
          completions: workload.completions[kind],
          samples: watch.samples,
          baselineRate: baselineRates[kind],
          faultEnd: injected.end,
          until
        })
      )
    )
  log(`${options.fault}: fault ${((injected.end - injected.start) / 1000).toFixed(1)} s, ${injected.notes.join("; ")}`)
  // traffic continues until the system recovered (plus a window to see it), at most 60 s
  const cap = injected.end + 60_000
  let recovered = Number.POSITIVE_INFINITY
  while (Date.now() < cap) {
    await sleep(500)
    recovered = recoveryNow(Date.now())
    if (Number.isFinite(recovered) && Date.now() >= injected.end + recovered * 1000 + windowMs + 1_000) break
  }
  const trafficEnd = Date.now()
  const stats = await workload.stop(60_000)
  await watch.stop()
  log(`${options.fault}: ${stats.acknowledged} acknowledged, ${stats.retries} retries; settling`)

  // settle: everything acknowledged visible downstream, then a quiet moment for late duplicates
  const input = () => ({
    customers: workload.customers,
    acks: workload.acks,
    notAcknowledged: workload.stats().notAcknowledged,
    tag,
    query: env.query
  })
  const settleDeadline = Date.now() + 120_000
  let verdict = await Verify.verify(input())
  while (verdict.lost > 0 && Date.now() < settleDeadline) {
    await sleep(1_000)
    verdict = await Verify.verify(input())
  }
  const drainSeconds = (Date.now() - trafficEnd) / 1000
  await sleep(2_000)
  verdict = await Verify.verify(input())

  const deadLettered = (await env.rabbit.queues())
    .filter((q) => q.name.endsWith(".dlq"))
    .reduce((s, q) => s + q.messages, 0)
  const before = watch.samples.filter((s) => s.at < baselineTo)
  const after = watch.samples.filter((s) => s.at >= injected.start)
  const memory: Record<string, { beforeMb: number; peakMb: number }> = {}
  for (const service of Stack.services) {
    const peak = (xs: ReadonlyArray<Sample>) => Math.max(0, ...xs.map((s) => s.rss[service] ?? 0))
    memory[service] = { beforeMb: mb(peak(before)), peakMb: mb(peak(after)) }
  }
  memory.postgres = {
    beforeMb: mb(Math.max(0, ...before.map((s) => s.postgresRss))),
    peakMb: mb(Math.max(0, ...after.map((s) => s.postgresRss)))
  }
  const timeline: Array<{ second: number; acks: number; ready: string }> = []
  for (let t = injected.start - 3_000; t < trafficEnd; t += 1_000) {
    const inSecond = watch.samples.filter((x) => x.at >= t && x.at < t + 1_000)
    const notReady = new Set(inSecond.flatMap((x) => x.notReady))
    timeline.push({
      second: Math.round((t - injected.end) / 1000),
      acks: Workload.opKinds.reduce(
        (sum, k) => sum + workload.completions[k].filter((c) => c >= t && c < t + 1_000).length,
        0
      ),
      ready: notReady.size === 0 ? "all" : [...notReady].join("+")
    })
  }
  const firstAfter = workload.acks.filter((a) => a.startedAt >= injected.end).sort((a, b) => a.at - b.at)[0]
  return {
    fault: options.fault,
    tag,
    operations: verdict.operations,
    lost: verdict.lost,
    duplicated: verdict.duplicated,
    balancesReconciled: verdict.balancesReconciled,
    recoverySeconds: recovered,
    firstSuccessSeconds: firstAfter ? (firstAfter.at - injected.end) / 1000 : Number.POSITIVE_INFINITY,
    drainSeconds,
    baselineOpsPerSecond: Math.round(baselineRate * 10) / 10,
    faultSeconds: (injected.end - injected.start) / 1000,
    retries: stats.retries,
    appliedWithoutAnswer: verdict.appliedWithoutAnswer,
    unanswered: stats.unanswered,
    unexpected: stats.unexpected,
    deadLettered,
    memory,
    byKind: verdict.byKind,
    problems: verdict.problems,
    notes: injected.notes,
    timeline
  }
}
