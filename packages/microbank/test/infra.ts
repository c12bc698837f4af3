// Real PostgreSQL and RabbitMQ for stack-mode tests, each run isolated: its own databases and
// its own RabbitMQ virtual host, removed afterwards.
import { execFileSync } from "node:child_process"
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

const check = async (name: string, url: string, port: number) => {
  const ok = await reachable(url, port)
  if (!ok && requireReal) throw new Error(`${name} is not reachable at ${url} and REQUIRE_REAL_SERVICES=1`)
  return ok
}

export const servicesAvailable = (await check("PostgreSQL", PG, 5432)) && (await check("RabbitMQ", AMQP, 5672))

/** A fresh RabbitMQ virtual host (needs local `rabbitmqctl`); returns its AMQP URL and a cleanup. */
export const vhost = (name: string): { readonly url: string; readonly remove: () => void } => {
  const ctl = (...args: Array<string>) => execFileSync("rabbitmqctl", ["-q", ...args], { stdio: "pipe" })
  ctl("add_vhost", name)
  ctl("set_permissions", "-p", name, new URL(AMQP).username || "guest", ".*", ".*", ".*")
  const url = new URL(AMQP)
  url.pathname = `/${encodeURIComponent(name)}`
  return { url: url.toString(), remove: () => void ctl("delete_vhost", name) }
}

/** Runs one SQL query with psql and returns the rows as arrays of strings. */
export const query = (databaseUrl: string, sql: string): Array<Array<string>> =>
  execFileSync("psql", [databaseUrl, "-qAtF", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql], { stdio: "pipe" })
    .toString()
    .trim()
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.split("\t"))
