/**
 * The real servers the stack-mode attacks need: PostgreSQL, RabbitMQ and Debian's kcat (the
 * Kafka-protocol mock broker). With `REQUIRE_REAL_SERVICES=1` a missing one fails the suite
 * instead of skipping it.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { connect } from "node:net"

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

const kcat = () => spawnSync("kcat", ["-V"], { stdio: "ignore" }).status === 0
const rabbitmqctl = () => spawnSync("rabbitmqctl", ["-q", "version"], { stdio: "ignore" }).status === 0

/** True when every server is there; throws naming the missing ones when `REQUIRE_REAL_SERVICES=1`. */
export const available = async (): Promise<boolean> => {
  const missing = [
    ...((await reachable(PG, 5432)) ? [] : [`PostgreSQL at ${PG}`]),
    ...((await reachable(AMQP, 5672)) ? [] : [`RabbitMQ at ${new URL(AMQP).host}`]),
    ...(kcat() ? [] : ["kcat (apt-get install kcat)"]),
    ...(rabbitmqctl() ? [] : ["rabbitmqctl"])
  ]
  if (missing.length > 0 && requireReal)
    throw new Error(`REQUIRE_REAL_SERVICES=1 but these are missing: ${missing.join(", ")}`)
  return missing.length === 0
}

/** A fresh password nobody could guess, to look for in logs. */
export const secret = (prefix: string) => `${prefix}${randomBytes(18).toString("base64url")}`

/** A fresh RabbitMQ virtual host with its own user and password; `remove` deletes both. */
export const vhost = (name: string) => {
  const ctl = (...args: Array<string>) => execFileSync("rabbitmqctl", ["-q", ...args], { stdio: "pipe" })
  const user = `${name}_user`
  const password = secret("amqp")
  ctl("add_vhost", name)
  ctl("add_user", user, password)
  ctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
  const url = new URL(AMQP)
  url.username = user
  url.password = password
  url.pathname = `/${encodeURIComponent(name)}`
  return {
    url: url.toString(),
    password,
    /** The vhost's queues, for a failure message: name, ready, unacknowledged, consumers. */
    queues: () =>
      ctl("list_queues", "-p", name, "name", "messages_ready", "messages_unacknowledged", "consumers")
        .toString()
        .trim(),
    /** Closes every client connection of the vhost (the services must reconnect). */
    dropConnections: () => void ctl("close_all_connections", "--vhost", name, "security test: connection dropped"),
    remove: () => {
      ctl("delete_vhost", name)
      ctl("delete_user", user)
    }
  }
}

/** PostgreSQL's admin URL with a password in it: trust authentication ignores it, the logs must not show it. */
export const postgresWithPassword = () => {
  const password = secret("pg")
  const url = new URL(PG)
  if (url.password !== "") return { url: PG, password: decodeURIComponent(url.password) }
  url.password = password
  return { url: url.toString(), password }
}
