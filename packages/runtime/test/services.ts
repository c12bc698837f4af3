// Real services for integration tests. With REQUIRE_REAL_SERVICES=1 (CI) a missing
// service fails the suite instead of skipping it.
import { AMQPClient } from "@cloudamqp/amqp-client"
import { connect } from "node:net"
import { execFileSync } from "node:child_process"

export const requireReal = process.env.REQUIRE_REAL_SERVICES === "1"
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
export const AMQP_URL = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672"

const reachable = (url: string, defaultPort: number): Promise<boolean> =>
  new Promise((resolve) => {
    const u = new URL(url)
    const socket = connect({ host: u.hostname, port: Number(u.port || defaultPort) })
    socket.setTimeout(1500)
    socket.once("connect", () => (socket.destroy(), resolve(true)))
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => (socket.destroy(), resolve(false)))
  })

/** Resolves whether the service is reachable; throws when it must be and is not. */
export const available = async (name: string, url: string, defaultPort: number): Promise<boolean> => {
  const ok = await reachable(url, defaultPort)
  if (!ok && requireReal) throw new Error(`${name} is not reachable at ${url} and REQUIRE_REAL_SERVICES=1`)
  if (!ok) console.warn(`skipping ${name} tests: ${url} is not reachable`)
  return ok
}

export const postgresAvailable = await available("PostgreSQL", PG_ADMIN_URL, 5432)
export const rabbitAvailable = await available("RabbitMQ", AMQP_URL, 5672)

export const unique = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** Creates an empty database and returns its URL. */
export const createDatabase = async (
  name = unique("troupe_test")
): Promise<{ url: string; drop: () => Promise<void> }> => {
  const admin = new URL(PG_ADMIN_URL)
  const psql = (sql: string) =>
    execFileSync("psql", [PG_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], { stdio: "pipe" })
  psql(`create database "${name}"`)
  admin.pathname = `/${name}`
  return {
    url: admin.toString(),
    drop: async () => {
      psql(`drop database if exists "${name}" with (force)`)
    }
  }
}

/** Deletes AMQP queues and exchanges created by a test. */
export const deleteAmqp = async (queues: ReadonlyArray<string>, exchanges: ReadonlyArray<string> = []) => {
  const client = new AMQPClient(AMQP_URL)
  const connection = await client.connect()
  const channel = await connection.channel()
  for (const q of queues) {
    await channel.queueDelete(q).catch(() => undefined)
    await channel.queueDelete(`${q}.dlq`).catch(() => undefined)
  }
  for (const x of exchanges) await channel.exchangeDelete(x).catch(() => undefined)
  await connection.close()
}

/** Reads (and removes) the dead letters of an AMQP queue. */
export const amqpDeadLetters = async (queue: string) => {
  const client = new AMQPClient(AMQP_URL)
  const connection = await client.connect()
  const channel = await connection.channel()
  const out: Array<{ id: string; type: string; reason: string; error: string }> = []
  while (true) {
    const msg = await channel.basicGet(`${queue}.dlq`, { noAck: true })
    if (msg === null) break
    const headers = msg.properties.headers ?? {}
    out.push({
      id: msg.properties.messageId ?? "",
      type: msg.properties.type ?? "",
      reason: String(headers["x-error-reason"] ?? ""),
      error: String(headers["x-error"] ?? "")
    })
  }
  await connection.close()
  return out
}
