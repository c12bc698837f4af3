// Real PostgreSQL, RabbitMQ and Prometheus for the stack test. Each run is isolated: its own
// databases, its own RabbitMQ virtual host and user, its own Prometheus data directory.
// With REQUIRE_REAL_SERVICES=1 anything missing fails the run instead of skipping it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { join } from "node:path"
import { stringify } from "yaml"

export const requireReal = process.env.REQUIRE_REAL_SERVICES === "1"
export const PG = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
export const AMQP = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672"

const reachable = (url: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const u = new URL(url)
    const socket = connect({ host: u.hostname, port: Number(u.port || port) })
    socket.setTimeout(1500)
    socket.once("connect", () => (socket.destroy(), resolve(true)))
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => (socket.destroy(), resolve(false)))
  })

const installed = (command: string) => spawnSync(command, ["--version"], { stdio: "ignore" }).error === undefined

const missing: Array<string> = []
if (!(await reachable(PG, 5432))) missing.push(`PostgreSQL at ${PG}`)
if (!(await reachable(AMQP, 5672))) missing.push(`RabbitMQ at ${AMQP}`)
for (const command of ["prometheus", "promtool", "rabbitmqctl", "psql"])
  if (!installed(command)) missing.push(`${command} (Debian packages prometheus, rabbitmq-server, postgresql-client)`)
// purchases streams through Kafka: librdkafka's mock cluster in Debian's kcat
if (spawnSync("kcat", ["-V"], { stdio: "ignore" }).status !== 0) missing.push("kcat (Debian package kcat)")
if (missing.length > 0 && requireReal) throw new Error(`REQUIRE_REAL_SERVICES=1 but missing: ${missing.join(", ")}`)

/** Why the stack test cannot run here (empty when it can). */
export const unavailable: ReadonlyArray<string> = missing

export const rabbitmqctl = (...args: Array<string>) =>
  execFileSync("rabbitmqctl", ["-q", ...args], { stdio: "pipe" }).toString()

/** A fresh virtual host with its own user for the services; the test's admin (guest) may use it too. */
export const vhost = (name: string) => {
  const password = randomBytes(12).toString("base64url")
  rabbitmqctl("add_vhost", name)
  rabbitmqctl("add_user", name, password)
  rabbitmqctl("set_permissions", "-p", name, name, ".*", ".*", ".*")
  const admin = new URL(AMQP)
  rabbitmqctl("set_permissions", "-p", name, decodeURIComponent(admin.username) || "guest", ".*", ".*", ".*")
  const url = (user: string, pass: string) => {
    const u = new URL(AMQP)
    u.username = encodeURIComponent(user)
    u.password = encodeURIComponent(pass)
    u.pathname = `/${encodeURIComponent(name)}`
    return u.toString()
  }
  admin.pathname = `/${encodeURIComponent(name)}`
  return {
    name,
    /** What the services connect with. */
    serviceUrl: url(name, password),
    /** What the test connects with. */
    adminUrl: admin.toString(),
    remove: () => {
      for (const args of [
        ["delete_vhost", name],
        ["delete_user", name]
      ])
        try {
          rabbitmqctl(...args)
        } catch {
          // already gone
        }
    }
  }
}

/** Runs SQL with psql against a database. */
export const psql = (databaseUrl: string, sql: string): string =>
  execFileSync("psql", [databaseUrl, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], { stdio: "pipe" }).toString().trim()

export interface Prometheus {
  readonly url: string
  readonly process: ChildProcess
  readonly query: (expr: string) => Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>
  readonly get: <A>(path: string) => Promise<A>
  readonly stop: () => Promise<void>
}

/** Starts Debian's Prometheus with the given configuration; resolves once it is ready. */
export const startPrometheus = async (dir: string, config: unknown, port: number): Promise<Prometheus> => {
  mkdirSync(join(dir, "data"), { recursive: true })
  writeFileSync(join(dir, "prometheus.yml"), stringify(config))
  const url = `http://127.0.0.1:${port}`
  const log: Array<string> = []
  const child = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn"
    ],
    { stdio: ["ignore", "pipe", "pipe"] }
  )
  const keep = (data: Buffer) => void log.push(...data.toString().split("\n").filter(Boolean).slice(-20))
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const get = async <A>(path: string): Promise<A> => {
    const response = await fetch(`${url}${path}`)
    const body = (await response.json()) as { status: string; data: A; error?: string }
    if (body.status !== "success") throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`)
    return body.data
  }
  const deadline = Date.now() + 30_000
  while (true) {
    if (child.exitCode !== null)
      throw new Error(`prometheus exited with ${child.exitCode}: ${log.slice(-5).join(" | ")}`)
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false
    )
    if (ready) break
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s: ${log.slice(-5).join(" | ")}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    process: child,
    get,
    query: async (expr) => {
      const data = await get<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`
      )
      return data.result
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM")
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
      if (child.exitCode === null) child.kill("SIGKILL")
    }
  }
}

/** Polls `check` until it returns a value (not undefined); fails with `what` after `timeoutMs`. */
export const eventually = async <T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`)
}
