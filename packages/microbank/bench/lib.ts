/**
 * What the stack-mode benchmarks share: a throwaway stack (its own RabbitMQ vhost, databases
 * and, when asked, a Kafka mock broker), load drivers that go through the gateway like a
 * client does, and a few numbers helpers.
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as KafkaMock from "../src/KafkaMock.ts"
import * as Secrets from "../src/Secrets.ts"
import * as Stack from "../src/Stack.ts"

export const PG = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
export const AMQP = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672"

export const median = (xs: ReadonlyArray<number>): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
export const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000)
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface Bench {
  readonly stack: Stack.Stack
  readonly amqpUrl: string
  /** An admin's bearer token. */
  readonly token: string
  readonly api: <T>(method: string, path: string, body?: unknown) => Promise<T>
  readonly close: () => Promise<void>
}

/** Starts Microbank in stack mode on its own vhost and databases, and logs in as the admin. */
export const startStack = async (options: {
  readonly runtime: Stack.Runtime
  readonly kafka: boolean
}): Promise<Bench> => {
  const dir = mkdtempSync(join(tmpdir(), "microbank-bench-"))
  const run = `mbb_${options.runtime}_${Date.now().toString(36)}`
  execFileSync("rabbitmqctl", ["-q", "add_vhost", run])
  execFileSync("rabbitmqctl", ["-q", "set_permissions", "-p", run, "guest", ".*", ".*", ".*"])
  const amqp = new URL(AMQP)
  amqp.pathname = `/${run}`
  const broker = options.kafka ? await KafkaMock.start() : undefined
  const { secrets } = Secrets.load(dir)
  const cleanup = async (stack?: Stack.Stack) => {
    await stack?.stop()
    await stack?.dropDatabases()
    await broker?.stop()
    execFileSync("rabbitmqctl", ["-q", "delete_vhost", run])
    // The logs stay when the stack did not start: the error names them.
    if (stack) rmSync(dir, { recursive: true, force: true })
  }
  let stack: Stack.Stack
  try {
    stack = await Stack.start({
      databaseUrl: PG,
      amqpUrl: amqp.toString(),
      ...(broker ? { kafkaBrokers: broker.bootstrap } : {}),
      secrets,
      runtime: options.runtime,
      databasePrefix: `${run}_`,
      logDir: join(dir, "logs"),
      env: { RATE_LIMIT_PER_MINUTE: "100000000", AUTH_RATE_LIMIT_PER_MINUTE: "100000", LOG_LEVEL: "warn" }
    })
  } catch (error) {
    await cleanup()
    throw error
  }
  const call = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<T> => {
    const response = await fetch(`${stack.gatewayUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {})
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`)
    return (text ? JSON.parse(text) : undefined) as T
  }
  const { access_token: token } = await call<{ access_token: string }>("POST", "/api/auth/login", {
    username: "admin",
    password: secrets.adminPassword
  })
  return {
    stack,
    amqpUrl: amqp.toString(),
    token,
    api: (method, path, body) => call(method, path, body, token),
    close: () => cleanup(stack)
  }
}

const clockTicks = existsSync("/proc/self/stat") ? Number(execFileSync("getconf", ["CLK_TCK"]).toString()) : 100

/** CPU seconds (user + system) a process has used so far; undefined where /proc is not there. */
export const cpuSeconds = (pid: number): number | undefined => {
  if (!existsSync(`/proc/${pid}/stat`)) return undefined
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / clockTicks
}

export interface HttpResult {
  readonly rps: number
  readonly p99: number
  /** CPU time the `server` process spent per request (µs), when a server pid was given. */
  readonly cpuMicrosPerRequest?: number
}

/**
 * autocannon (50 connections) for `duration` seconds in a fresh process of its own, on core `cpu`
 * when given (taskset). Not in this process, so that no measurement inherits the generator state
 * of the one before (its heap, its compiled code, its timers). With `server` (a pid), also the
 * CPU time that process spent per request. Fails on any non-2xx answer or socket error.
 */
export const http = (
  title: string,
  url: string,
  duration: number,
  headers: Record<string, string> = {},
  options: { readonly cpu?: number; readonly server?: number } = {}
) =>
  new Promise<HttpResult>((resolve, reject) => {
    const load = [
      process.execPath,
      new URL("./load.ts", import.meta.url).pathname,
      JSON.stringify({ url, duration, headers })
    ]
    const [command, ...args] = options.cpu === undefined ? load : ["taskset", "-c", String(options.cpu), ...load]
    const child = spawn(command!, args, { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let cpuAtStart: number | undefined
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      if (cpuAtStart === undefined && stdout.startsWith("measuring\n") && options.server !== undefined)
        cpuAtStart = cpuSeconds(options.server)
    })
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("close", (code) => {
      const cpuAtEnd = options.server === undefined ? undefined : cpuSeconds(options.server)
      if (code !== 0) return reject(new Error(`${title}: load generator failed: ${stderr.trim() || `exit ${code}`}`))
      const result = JSON.parse(stdout.split("\n").filter(Boolean).at(-1)!) as {
        rps: number
        p99: number
        requests: number
        non2xx: number
        errors: number
      }
      if (result.non2xx > 0 || result.errors > 0)
        return reject(new Error(`${title}: ${result.non2xx} non-2xx, ${result.errors} errors`))
      const cpu =
        cpuAtStart !== undefined && cpuAtEnd !== undefined && result.requests > 0
          ? { cpuMicrosPerRequest: ((cpuAtEnd - cpuAtStart) / result.requests) * 1e6 }
          : {}
      resolve({ rps: result.rps, p99: result.p99, ...cpu })
    })
  })

/** Runs `task(i)` for i in [0, n) with at most `concurrency` at once. */
export const pool = async (n: number, concurrency: number, task: (i: number) => Promise<unknown>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await task(next++)
    })
  )
}

/** Polls `count` until it reaches `target`; fails when it makes no progress for `stallMs`. */
export const until = async (what: string, count: () => Promise<number>, target: number, stallMs = 60_000) => {
  let last = -1
  let since = performance.now()
  for (;;) {
    const n = await count()
    if (n >= target) return
    if (n !== last) [last, since] = [n, performance.now()]
    else if (performance.now() - since > stallMs)
      throw new Error(`${what}: stuck at ${n} of ${target} for ${stallMs / 1000} s`)
    await sleep(100)
  }
}

/** The sum of a counter over a service's instances, read from their `/metrics`. */
export const counter = async (bench: Bench, service: Stack.Service, name: string): Promise<number> => {
  let sum = 0
  for (const instance of bench.stack.of(service)) {
    const text = await (await fetch(`${instance.url}/metrics`)).text()
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
        sum += Number(line.slice(line.lastIndexOf(" ") + 1))
    }
  }
  return sum
}

/**
 * Ingest pipeline, end to end: `n` records through `POST /api/v1/ingest/batch` (batches of
 * `batch`, 8 requests in flight) → RabbitMQ work queue → batching worker → PostgreSQL. Returns
 * records/s from the first request until the worker counted the last record stored.
 */
export const ingestThroughGateway = async (bench: Bench, n: number, batch = 500): Promise<number> => {
  const stored = () => counter(bench, "ingest", "microbank_ingested_records_total")
  const before = await stored()
  const start = performance.now()
  await pool(Math.ceil(n / batch), 8, (b) =>
    bench.api("POST", "/api/v1/ingest/batch", {
      records: Array.from({ length: Math.min(batch, n - b * batch) }, (_, i) => ({
        type: "bench",
        source: "bench",
        data: { seq: b * batch + i, amount_minor: 100 + (i % 977), note: "benchmark record" }
      }))
    })
  )
  await until("ingested records", stored, before + n)
  return rate(n, performance.now() - start)
}

/**
 * Purchases pipeline, end to end: `n` purchases through `POST /api/v1/buy` (32 in flight) →
 * Kafka topic `purchases` → consumer group → PostgreSQL. Returns purchases/s from the first
 * request until the consumer counted the last one stored.
 */
export const purchasesThroughGateway = async (bench: Bench, n: number): Promise<number> => {
  const me = await bench.api<{ id: string; username: string }>("GET", "/api/me")
  const stored = () => counter(bench, "purchases", "microbank_purchases_total")
  const before = await stored()
  const start = performance.now()
  await pool(n, 32, () => bench.api("POST", "/api/v1/buy", { username: me.username, userid: me.id, price: "1.25" }))
  await until("stored purchases", stored, before + n)
  return rate(n, performance.now() - start)
}
