/**
 * Stack mode: every service as its own OS process (Node 24 or Deno 2) against real
 * PostgreSQL (one database per service, created if missing) and RabbitMQ. Used by
 * `npm run stack`, the end-to-end tests, fault injection and benchmarks.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import * as Secrets from "./Secrets.ts"

export const services = ["users", "accounts", "notifications", "purchases", "ingest", "jobs", "gateway"] as const
export type Service = (typeof services)[number]
const withDatabase: ReadonlyArray<Service> = ["users", "accounts", "notifications", "purchases", "ingest", "jobs"]

export type Runtime = "node" | "deno"

export interface Options {
  /** A PostgreSQL URL with the right to create databases; service databases are created next to it. */
  readonly databaseUrl: string
  readonly amqpUrl: string
  /** Kafka bootstrap servers for the purchases service; without them it uses RabbitMQ too. */
  readonly kafkaBrokers?: string
  readonly secrets: Secrets.Secrets
  /** Prefix of the service databases (`<prefix>users`, ...). Default `microbank_`. */
  readonly databasePrefix?: string
  readonly gatewayPort?: number
  readonly runtime?: Runtime | Partial<Record<Service, Runtime>>
  readonly replicas?: Partial<Record<Service, number>>
  /** Extra environment for every service. */
  readonly env?: Record<string, string>
  /** Where service logs go (one file per instance). Default `.stack/logs`. */
  readonly logDir?: string
  /** Called with warnings/errors and start-up lines of the services. */
  readonly onLog?: (service: string, line: string) => void
}

export interface Instance {
  readonly service: Service
  readonly index: number
  readonly port: number
  readonly url: string
  readonly runtime: Runtime
  /** The file its output goes to (across restarts). */
  readonly logFile: string
  process: ChildProcess
  /** Resolves with the exit code when the current process exits. */
  exited: Promise<number | null>
  readonly kill: (signal?: NodeJS.Signals) => Promise<number | null>
  /**
   * Stops the instance (SIGKILL by default; SIGTERM drains it) and starts it again on the same
   * port, with the same environment (and the current database URL), and waits until it is ready.
   */
  readonly restart: (signal?: NodeJS.Signals) => Promise<void>
}

/** How an instance's current process ended (`exited with code 1`, `killed by SIGKILL`), or undefined while it runs. */
export const exitOf = (i: Instance): string | undefined =>
  i.process.exitCode !== null
    ? `exited with code ${i.process.exitCode}`
    : i.process.signalCode !== null
      ? `killed by ${i.process.signalCode}`
      : undefined

export interface Stack {
  readonly gatewayUrl: string
  readonly instances: ReadonlyArray<Instance>
  readonly of: (service: Service) => ReadonlyArray<Instance>
  readonly databaseUrl: (service: Service) => string
  /**
   * Points the services at another PostgreSQL server (a promoted standby): instances started or
   * restarted from now on get database URLs on `databaseUrl`; running ones keep theirs until restarted.
   */
  readonly repoint: (databaseUrl: string) => void
  readonly stop: () => Promise<void>
  readonly dropDatabases: () => Promise<void>
}

// Services log JSON lines; anything else (a crash trace) counts as a warning.
const parseLogLine = (line: string): { readonly level: string; readonly msg: string } => {
  try {
    const parsed = JSON.parse(line) as { level?: string; msg?: string }
    return { level: parsed.level ?? "info", msg: parsed.msg ?? line }
  } catch {
    return { level: "warn", msg: line }
  }
}

const root = fileURLToPath(new URL("../../..", import.meta.url))

/**
 * The least a service needs on Deno: the network, its environment (all configuration), reading
 * its own files (code, templates, the web build) and the host name (it names the outbox lease
 * holder). The Deno image's entry point grants the same, with `/app` as the directory.
 */
export const denoPermissions = (appDir: string): ReadonlyArray<string> => [
  "--allow-net",
  "--allow-env",
  `--allow-read=${appDir}`,
  "--allow-sys=hostname"
]
const bin = (name: string) => `${root}node_modules/.bin/${name}`

export const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer()
    server.once("error", fail)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })

const withDbName = (url: string, name: string) => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** Runs SQL statements against the admin database. */
const withAdmin = <A>(url: string, f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    PgClient.PgClient.use(f).pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))
    ) as Effect.Effect<A>
  )

const admin = (
  url: string,
  statements: (names: ReadonlyArray<string>) => ReadonlyArray<string>,
  names: ReadonlyArray<string>
) => withAdmin(url, (sql) => Effect.forEach(statements(names), (statement) => sql.unsafe(statement), { discard: true }))

export const createDatabases = async (url: string, names: ReadonlyArray<string>) => {
  const rows = await withAdmin(url, (sql) => sql<{ datname: string }>`select datname from pg_database`)
  const existing = new Set(rows.map((r) => r.datname))
  const missing = names.filter((n) => !existing.has(n))
  if (missing.length > 0) await admin(url, (ns) => ns.map((n) => `create database "${n}"`), missing)
}

const waitReady = async (url: string, instance: () => ChildProcess, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (instance().exitCode !== null) throw new Error(`exited with code ${instance().exitCode} while starting`)
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.status === 200,
      () => false
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`not ready after ${timeoutMs} ms`)
}

export const start = async (options: Options): Promise<Stack> => {
  const prefix = options.databasePrefix ?? "microbank_"
  const dbName = (s: Service) => `${prefix}${s}`
  let databaseUrl = options.databaseUrl
  await createDatabases(databaseUrl, withDatabase.map(dbName))
  const logDir = options.logDir ?? `${root}.stack/logs`
  mkdirSync(logDir, { recursive: true })
  const runtimeOf = (s: Service): Runtime =>
    typeof options.runtime === "string" ? options.runtime : (options.runtime?.[s] ?? "node")

  const plan: Array<{ service: Service; index: number; port: number }> = []
  for (const service of services) {
    const count = Math.max(1, options.replicas?.[service] ?? 1)
    for (let index = 0; index < count; index++) {
      plan.push({
        service,
        index,
        port: service === "gateway" && index === 0 && options.gatewayPort ? options.gatewayPort : await freePort()
      })
    }
  }
  // All replicas of a service, comma-separated: callers balance over them round-robin.
  const urlOf = (s: Service) =>
    plan
      .filter((p) => p.service === s)
      .map((p) => `http://127.0.0.1:${p.port}`)
      .join(",")
  const common: Record<string, string> = {
    HOST: "127.0.0.1",
    AMQP_URL: options.amqpUrl,
    ...Secrets.env(options.secrets),
    USERS_URL: urlOf("users"),
    ACCOUNTS_URL: urlOf("accounts"),
    NOTIFICATIONS_URL: urlOf("notifications"),
    PURCHASES_URL: urlOf("purchases"),
    INGEST_URL: urlOf("ingest"),
    JOBS_URL: urlOf("jobs"),
    ...options.env
  }

  const instances: Array<Instance> = []
  const launch = (p: { service: Service; index: number; port: number }, log: WriteStream): ChildProcess => {
    const main = `${root}packages/${p.service}/src/main.ts`
    const runtime = runtimeOf(p.service)
    const [command, args] =
      runtime === "deno"
        ? [bin("deno"), ["run", ...denoPermissions(root.replace(/\/$/, "")), main]]
        : [bin("node"), [main]]
    const env = {
      ...process.env,
      ...common,
      PORT: String(p.port),
      ...(withDatabase.includes(p.service) ? { DATABASE_URL: withDbName(databaseUrl, dbName(p.service)) } : {}),
      ...(p.service === "purchases" && options.kafkaBrokers
        ? { KAFKA_BROKERS: options.kafkaBrokers, KAFKA_CLIENT_ID: "purchases" }
        : {})
    }
    const child = spawn(command, args as Array<string>, { env, stdio: ["ignore", "pipe", "pipe"] })
    const name =
      options.replicas?.[p.service] && options.replicas[p.service]! > 1 ? `${p.service}#${p.index + 1}` : p.service
    const onData = (data: Buffer) => {
      log.write(data)
      for (const line of data.toString().split("\n")) {
        if (line.trim() === "") continue
        const { level, msg } = parseLogLine(line)
        if (level !== "info" && level !== "debug") options.onLog?.(name, `${level}: ${msg}`)
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    return child
  }

  for (const p of plan) {
    const logFile = `${logDir}/${p.service}-${p.index + 1}.log`
    const log = createWriteStream(logFile, { flags: "a" })
    const url = `http://127.0.0.1:${p.port}`
    const child = launch(p, log)
    const instance: Instance = {
      ...p,
      url,
      logFile,
      runtime: runtimeOf(p.service),
      process: child,
      exited: new Promise((r) => child.once("exit", (code) => r(code))),
      kill: (signal = "SIGTERM") => {
        const current = instance.process
        if (current.exitCode === null && current.signalCode === null) current.kill(signal)
        return instance.exited
      },
      restart: async (signal = "SIGKILL") => {
        await instance.kill(signal)
        const next = launch(p, log)
        instance.process = next
        instance.exited = new Promise((r) => next.once("exit", (code) => r(code)))
        await waitReady(url, () => instance.process, 60_000)
      }
    }
    instances.push(instance)
  }
  // Services start in parallel; each must become ready.
  const failures: Array<string> = []
  await Promise.all(
    instances.map((i) =>
      waitReady(i.url, () => i.process, 90_000).then(
        () => options.onLog?.(i.service, `ready on ${i.url} (${i.runtime})`),
        (error: Error) => failures.push(`${i.service}: ${error.message} (log: ${i.logFile})`)
      )
    )
  )
  const stop = async () => {
    // Gateway first (stop intake), then the rest; every process drains on SIGTERM.
    const gateway = instances.filter((i) => i.service === "gateway")
    await Promise.all(gateway.map((i) => i.kill("SIGTERM")))
    await Promise.all(instances.filter((i) => i.service !== "gateway").map((i) => i.kill("SIGTERM")))
  }
  if (failures.length > 0) {
    await Promise.all(instances.map((i) => i.kill("SIGKILL")))
    throw new Error(`the stack did not start:\n  ${failures.join("\n  ")}`)
  }
  return {
    gatewayUrl: urlOf("gateway").split(",")[0]!,
    instances,
    of: (service) => instances.filter((i) => i.service === service),
    databaseUrl: (service) => withDbName(databaseUrl, dbName(service)),
    repoint: (url) => {
      databaseUrl = url
    },
    stop,
    dropDatabases: () =>
      admin(databaseUrl, (ns) => ns.map((n) => `drop database if exists "${n}" with (force)`), withDatabase.map(dbName))
  }
}
